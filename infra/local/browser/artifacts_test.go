//go:build integration

package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// artifactsDir is where screenshots are kept for people and for the closing note.
func artifactsDir() string { return filepath.Join(root, ".local", "artifacts", "console") }

// Blank-page thresholds: a rendered page with text and controls has anti-aliased glyph edges,
// so hundreds of distinct colours; an empty or single-colour page has one or two. The dominant
// colour (the background) of a real page covers less than the whole of it.
const (
	minColours       = 16
	maxDominantShare = 0.98
)

// blankness analyses a PNG: how many distinct colours it has and the share of the most common.
func blankness(pngBytes []byte) (colours int, dominant float64, err error) {
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		return 0, 0, err
	}
	counts := map[[4]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[[4]uint32{r, g, bl, a}]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	total := b.Dx() * b.Dy()
	if total == 0 {
		return 0, 1, nil
	}
	return len(counts), float64(most) / float64(total), nil
}

// checkNotBlank fails unless the PNG looks like a rendered page.
func checkNotBlank(pngBytes []byte) error {
	colours, dominant, err := blankness(pngBytes)
	if err != nil {
		return fmt.Errorf("decode screenshot: %w", err)
	}
	if colours <= minColours || dominant > maxDominantShare {
		return fmt.Errorf("screenshot looks blank: %d distinct colours (want > %d), the commonest covers %.1f%% (want ≤ %.0f%%)",
			colours, minColours, dominant*100, maxDominantShare*100)
	}
	return nil
}

// shot saves the whole page as <repo>/.local/artifacts/console/<name>.png and fails the test
// if the picture is blank. It waits for two animation frames first so the last render is painted.
func (b *tab) shot(name string) string {
	b.t.Helper()
	b.eval(`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, nil)
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	// The whole page, not only the viewport: the overview's charts are below the fold.
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(artifactsDir(), 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(artifactsDir(), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if err := checkNotBlank(buf); err != nil {
		b.t.Fatalf("%s: %v%s", path, err, b.pageState())
	}
	b.t.Logf("screenshot %s", path)
	return path
}

// canvasNotBlank fails unless the canvas (CSS selector) has drawn pixels of more than one colour:
// a chart whose library never drew leaves a transparent canvas.
func (b *tab) canvasNotBlank(css string) {
	b.t.Helper()
	var res struct {
		Width, Height int
		Colours       int
		Painted       int
	}
	b.eval(fmt.Sprintf(`(() => {
		const c = document.querySelector(%s);
		if (!c) return {width: 0, height: 0, colours: 0, painted: 0};
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		const seen = new Set(); let painted = 0;
		for (let i = 0; i < d.length; i += 4) {
			if (d[i + 3] !== 0) painted++;
			if (seen.size < 1000) seen.add((d[i] << 24 | d[i + 1] << 16 | d[i + 2] << 8 | d[i + 3]) >>> 0);
		}
		return {width: c.width, height: c.height, colours: seen.size, painted};
	})()`, jsString(css)), &res)
	if res.Width == 0 || res.Height == 0 || res.Painted == 0 || res.Colours < 3 {
		b.t.Errorf("canvas %s looks blank: %dx%d, %d painted pixels, %d colours", css, res.Width, res.Height, res.Painted, res.Colours)
	}
}

// axeViolation is what axe-core reports for one failed rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var targets []string
	for _, n := range v.Nodes {
		t, _ := json.Marshal(n.Target)
		targets = append(targets, string(t))
	}
	return fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
}

// axeRun injects axe-core into the page (once; through DevTools, so the page's CSP, script-src
// 'self', does not stop it) and runs it with the WCAG 2 A and AA rules.
func (b *tab) axeRun() []axeViolation {
	b.t.Helper()
	needFile(b.t, axePath(), "cd web/console && npm ci, or make console")
	src, err := os.ReadFile(axePath())
	if err != nil {
		b.t.Fatal(err)
	}
	var loaded bool
	b.eval(`typeof window.axe === 'object'`, &loaded)
	if !loaded {
		ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
			b.t.Fatalf("inject axe-core: %v", err)
		}
	}
	var violations []axeViolation
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}, resultTypes: ['violations']}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe.run: %v", err)
	}
	if err := json.Unmarshal(raw, &violations); err != nil {
		b.t.Fatalf("axe.run result: %v: %s", err, raw)
	}
	return violations
}

// axe fails the test for every accessibility violation axe-core finds on the page as it is now;
// where says which page and width for the message.
func (b *tab) axe(where string) {
	b.t.Helper()
	for _, v := range b.axeRun() {
		b.t.Errorf("axe on %s: %s", where, v)
	}
}
