//go:build integration

package browser

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The framework's own tests run against a tiny fixture site, so a broken helper shows up as a
// framework failure, not as a console defect. The fixture is served with the console's CSP
// (script-src 'self': no inline script), so axe's injection is proven under it too.

const fixtureCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"

const fixtureIndex = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fixture</title><link rel="stylesheet" href="/app.css"><script type="module" src="/app.js"></script></head>
<body><header><p>Fixture console</p></header>
<nav aria-label="Main"><a href="#/one">One</a></nav>
<main><h1>Fixture</h1>
<form id="f"><label for="name">Your name</label><input id="name" name="name">
<button type="submit">Say hello</button></form>
<p role="status" id="out"></p>
<figure data-chart="demo"><canvas id="c" width="300" height="120"></canvas><figcaption>A demo chart</figcaption></figure>
</main></body></html>`

const fixtureJS = `
document.getElementById('f').addEventListener('submit', (e) => {
  e.preventDefault();
  document.getElementById('out').textContent = 'Hello, ' + document.getElementById('name').value + '!';
  fetch('/api/hello');
});
const g = document.getElementById('c').getContext('2d');
g.fillStyle = '#1f4e8c'; g.fillRect(10, 10, 120, 100);
g.fillStyle = '#b3261e'; g.fillRect(150, 40, 120, 70);
`

const fixtureCSS = `body { font: 16px/1.4 sans-serif; color: #111; background: #fff; margin: 0 }
header { background: #1f2937; color: #fff; padding: 1rem } main { padding: 1rem }
:focus-visible { outline: 3px solid #1d4ed8 }`

// An inaccessible page: an image without alt text and an input without a label.
const fixtureBad = `<!doctype html><html lang="en"><head><title>Bad</title></head>
<body><main><h1>Bad</h1><img src="/pixel.png"><input id="q"></main></body></html>`

const fixtureBlank = `<!doctype html><html lang="en"><head><title>Blank</title></head><body></body></html>`

func fixtureServer(t *testing.T) *httptest.Server {
	t.Helper()
	pages := map[string][2]string{
		"/":          {"text/html; charset=utf-8", fixtureIndex},
		"/app.js":    {"text/javascript", fixtureJS},
		"/app.css":   {"text/css", fixtureCSS},
		"/bad":       {"text/html; charset=utf-8", fixtureBad},
		"/blank":     {"text/html; charset=utf-8", fixtureBlank},
		"/api/hello": {"application/json", `{"ok":true}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/pixel.png" {
			w.Header().Set("Content-Type", "image/png")
			_ = png.Encode(w, image.NewRGBA(image.Rect(0, 0, 1, 1)))
			return
		}
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", p[0])
		w.Header().Set("Content-Security-Policy", fixtureCSP)
		_, _ = w.Write([]byte(p[1]))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The blank check itself, on synthetic pictures: one colour is blank, a 98 %-background picture
// with few colours is blank, a picture with many colours and a smaller background is not.
func TestFrameworkBlankness(t *testing.T) {
	encode := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	white := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for i := range white.Pix {
		white.Pix[i] = 0xff
	}
	if err := checkNotBlank(encode(white)); err == nil {
		t.Error("an all-white picture passed as not blank")
	}
	// 99 % white with 50 colours in the rest: still blank by the dominant-colour rule.
	almost := image.NewRGBA(image.Rect(0, 0, 100, 100))
	copy(almost.Pix, white.Pix)
	for i := range 100 {
		almost.Set(i, 0, color.RGBA{uint8(i * 2), 10, 10, 255})
	}
	if err := checkNotBlank(encode(almost)); err == nil {
		t.Error("a 99 % white picture passed as not blank")
	}
	// A gradient band over a fifth of the picture: many colours, background 80 %.
	page := image.NewRGBA(image.Rect(0, 0, 100, 100))
	copy(page.Pix, white.Pix)
	for y := range 20 {
		for x := range 100 {
			page.Set(x, y, color.RGBA{uint8(x), uint8(y * 10), 80, 255})
		}
	}
	if err := checkNotBlank(encode(page)); err != nil {
		t.Errorf("a rendered-looking picture failed: %v", err)
	}
	if err := checkNotBlank([]byte("not a png")); err == nil {
		t.Error("garbage passed as a screenshot")
	}
}

// The helpers drive a real page at both widths: a labelled field is filled, a button clicked,
// the result waited for, a request seen on the network, a drawn canvas found non-blank, the
// screenshot saved and non-blank, and axe finds nothing on an accessible page.
func TestFrameworkFixturePage(t *testing.T) {
	srv := fixtureServer(t)
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"1280", desktopW, desktopH}, {"390", phoneW, phoneH}} {
		t.Run(vp.name, func(t *testing.T) {
			b := newTab(t, vp.w, vp.h)
			b.navigate(srv.URL + "/")
			var width int
			b.eval(`window.innerWidth`, &width)
			if int64(width) != vp.w {
				t.Errorf("viewport width %d, want %d", width, vp.w)
			}
			b.fill(field("#f", "Your name"), "Ada")
			b.click(button("#f", "Say hello"))
			if got := b.waitText("[role=status]", "Hello"); got != "Hello, Ada!" {
				t.Errorf("status %q, want %q", got, "Hello, Ada!")
			}
			b.poll("the fetch to /api/hello", `performance.getEntriesByName(location.origin + '/api/hello').length > 0`)
			if !slices.Contains(b.Requests(), srv.URL+"/api/hello") {
				t.Errorf("network events missed /api/hello: %v", b.Requests())
			}
			b.canvasNotBlank(`figure[data-chart="demo"] canvas`)
			b.shot("framework-fixture-" + vp.name)
			b.axe("the fixture page")
		})
	}
}

// axe reports real violations (so "no violations" on the console means something), and a blank
// page's screenshot fails the blank check.
func TestFrameworkCatchesProblems(t *testing.T) {
	srv := fixtureServer(t)
	b := newTab(t, desktopW, desktopH)
	b.navigate(srv.URL + "/bad")
	var ids []string
	for _, v := range b.axeRun() {
		ids = append(ids, v.ID)
		if v.Impact == "" || v.Help == "" || len(v.Nodes) == 0 {
			t.Errorf("violation without details: %+v", v)
		}
	}
	for _, want := range []string{"image-alt", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe missed %s on the bad page; it found %v", want, ids)
		}
	}

	b.navigate(srv.URL + "/blank")
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNotBlank(buf); err == nil || !strings.Contains(err.Error(), "blank") {
		t.Errorf("a blank page passed the screenshot check (err %v)", err)
	}
}
