package stripefault

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// upstream stands in for stripe-mock: every refund create gets a new id and echoes no metadata.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var creates atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost && r.URL.Path == "/v1/refunds" {
			n := creates.Add(1)
			fmt.Fprintf(w, `{"id":"re_%d","object":"refund","amount":100,"charge":"ch_fixture","metadata":{},"status":"succeeded"}`, n)
			return
		}
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv, &creates
}

func post(t *testing.T, base, path, key string, form url.Values) (*http.Response, map[string]any, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &body)
	return res, body, nil
}

func get(t *testing.T, u string) map[string]any {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body
}

func refundForm(charge string, amount int, op string) url.Values {
	return url.Values{"charge": {charge}, "amount": {fmt.Sprint(amount)}, "reason": {"duplicate"}, "metadata[operationId]": {op}}
}

func TestRefundsAreKeptPerKeyAndListedPerCharge(t *testing.T) {
	up, creates := upstream(t)
	p, base := Start(t, up.URL)
	_, first, err := post(t, base, "/v1/refunds", "k1", refundForm("ch_a", 300, "rop_1"))
	if err != nil {
		t.Fatal(err)
	}
	if first["id"] != "re_1" || first["charge"] != "ch_a" || first["amount"] != float64(300) ||
		first["metadata"].(map[string]any)["operationId"] != "rop_1" {
		t.Fatalf("refund %v: what we asked for, with the stand-in's id", first)
	}
	_, again, _ := post(t, base, "/v1/refunds", "k1", refundForm("ch_a", 300, "rop_1"))
	if again["id"] != "re_1" || creates.Load() != 1 {
		t.Fatalf("replay %v after %d creates: a repeated key gets the stored answer", again, creates.Load())
	}
	post(t, base, "/v1/refunds", "k2", refundForm("ch_b", 50, "rop_2"))
	p.AddRefund(map[string]any{"id": "re_dash", "object": "refund", "charge": "ch_a", "amount": 25, "status": "succeeded"})
	list := get(t, base+"/v1/refunds?charge=ch_a&limit=100")
	data := list["data"].([]any)
	if len(data) != 2 || data[0].(map[string]any)["id"] != "re_dash" || data[1].(map[string]any)["id"] != "re_1" || list["has_more"] != false {
		t.Fatalf("list %v: ch_a's refunds, newest first", list)
	}
	if !p.SetRefundStatus("re_1", "failed") || p.Refunds("ch_a")[1]["status"] != "failed" {
		t.Fatal("status not changed")
	}
	if got := p.Requests(http.MethodPost, "/v1/refunds"); len(got) != 3 || got[0].IdempotencyKey != "k1" ||
		got[0].Form.Get("metadata[operationId]") != "rop_1" {
		t.Fatalf("recorded %+v", got)
	}
}

func TestFaults(t *testing.T) {
	up, creates := upstream(t)
	p, base := Start(t, up.URL)

	p.Inject(Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: Drop})
	if _, _, err := post(t, base, "/v1/refunds", "k1", refundForm("ch_a", 300, "rop_1")); err == nil {
		t.Fatal("a dropped request got an answer")
	}
	if creates.Load() != 1 || len(p.Refunds("ch_a")) != 1 {
		t.Fatal("the dropped request must still have been made")
	}
	// The fault was used up: the retry with the key gets the refund made by the dropped request.
	if _, r, err := post(t, base, "/v1/refunds", "k1", refundForm("ch_a", 300, "rop_1")); err != nil || r["id"] != "re_1" {
		t.Fatalf("retry %v %v", r, err)
	}

	p.Inject(Fault{Method: http.MethodGet, Path: "/v1/refunds", Kind: Status, Status: 503, Times: 2})
	for i := 0; i < 2; i++ {
		res, err := http.Get(base + "/v1/refunds?charge=ch_a")
		if err != nil || res.StatusCode != 503 || res.Header.Get("Stripe-Should-Retry") != "false" {
			t.Fatalf("%d: %v %v", i, res, err)
		}
		res.Body.Close()
	}
	if data := get(t, base+"/v1/refunds?charge=ch_a")["data"].([]any); len(data) != 1 {
		t.Fatal("after the faults the list answers again")
	}

	p.Inject(Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: Status, Status: 400,
		Body: `{"error":{"type":"invalid_request_error","code":"charge_already_refunded"}}`})
	res, body, err := post(t, base, "/v1/refunds", "k2", refundForm("ch_a", 1, "rop_2"))
	if err != nil || res.StatusCode != 400 || body["error"].(map[string]any)["code"] != "charge_already_refunded" || creates.Load() != 1 {
		t.Fatalf("refusal %v %v %v (creates %d): answered without reaching the stand-in", res, body, err, creates.Load())
	}

	p.Inject(Fault{Method: http.MethodPost, Path: "/v1/refunds", Kind: Status, Status: 500, AfterForward: true})
	if res, _, _ := post(t, base, "/v1/refunds", "k3", refundForm("ch_a", 2, "rop_3")); res.StatusCode != 500 || creates.Load() != 2 {
		t.Fatalf("500 after forwarding: %d, creates %d", res.StatusCode, creates.Load())
	}

	// Anything else passes through to the stand-in.
	if got := get(t, base+"/v1/customers/cus_1"); got["path"] != "/v1/customers/cus_1" {
		t.Fatalf("passthrough %v", got)
	}
}
