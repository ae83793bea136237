package report_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/loadgen/loadgen/report"
)

// findChromium returns the browser for TestHTMLInBrowser. Without one the
// test skips, except under CI, where it must run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: the browser test must run in CI (.ci/run installs the Debian package)")
	}
	t.Skip("chromium not found: skipping the browser test of report.html (install the Debian package chromium; in CI it is required)")
	return ""
}

type pageCheck struct {
	Title  string `json:"title"`
	Charts []struct {
		ID     string  `json:"id"`
		Lines  int     `json:"lines"`
		Width  float64 `json:"w"`
		Height float64 `json:"h"`
	} `json:"charts"`
	Tables []struct {
		Section string  `json:"section"`
		Rows    int     `json:"rows"`
		Height  float64 `json:"h"`
	} `json:"tables"`
	Filtered  int `json:"filtered"`
	Unfiltred int `json:"unfiltered"`
}

const pageCheckJS = `(() => {
  const box = el => el.getBoundingClientRect();
  const charts = [...document.querySelectorAll('svg.chart')].map(s => ({id: s.id, lines: s.querySelectorAll('polyline.series').length, w: box(s).width, h: box(s).height}));
  const tables = [...document.querySelectorAll('table')].map(t => ({section: t.closest('section').id, rows: t.tBodies[0].rows.length, h: box(t).height}));
  const input = document.getElementById('failure-filter');
  const visible = () => [...document.querySelectorAll('#failure-table tbody tr')].filter(r => !r.hidden).length;
  input.value = 'http 503'; input.dispatchEvent(new Event('input'));
  const filtered = visible();
  input.value = ''; input.dispatchEvent(new Event('input'));
  return {title: document.title, charts, tables, filtered, unfiltered: visible()};
})()`

// browserVisit is what a page did in the browser.
type browserVisit struct {
	check    pageCheck
	shot     []byte
	requests []string // every URL the page asked for, its own included
	problems []string // console errors and warnings, exceptions, log errors
}

// visit opens the file at path in headless Chromium, runs js (if set)
// and takes a full-page screenshot.
func visit(t *testing.T, chromium, path, js string) browserVisit {
	t.Helper()
	// The allocator's deadline bounds the whole browser session.
	actx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(actx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()

	var mu sync.Mutex
	var v browserVisit
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			v.requests = append(v.requests, ev.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				v.problems = append(v.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			v.problems = append(v.problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				v.problems = append(v.problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(listen))
	defer cancelCtx()
	page := "file://" + path
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	var check pageCheck
	if js != "" {
		var err error
		if check, err = chromedp.Run(ctx, chromedp.Evaluate[pageCheck](js)); err != nil {
			t.Fatalf("inspect page: %v", err)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// Closing the tab flushes the events still in flight to the listener.
	cancelCtx()
	mu.Lock()
	defer mu.Unlock()
	v.check, v.shot = check, shot
	v.requests = append([]string(nil), v.requests...)
	v.problems = append([]string(nil), v.problems...)
	return v
}

// TestHTMLInBrowser opens report.html in headless Chromium and checks that
// every chart and table is drawn, that the page made no network request
// besides its own file and logged no console error, and saves a
// screenshot as a test artefact.
func TestHTMLInBrowser(t *testing.T) {
	chromium := findChromium(t)
	r := synthRun(t, synthOpts{seed: 1, thresholds: goldenThresholds})
	dir := t.TempDir()
	if err := report.WriteFiles(dir, r, report.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, report.FileHTML)
	v := visit(t, chromium, path, pageCheckJS)
	saveArtifact(t, "report.png", v.shot)
	got := v.check

	if !strings.Contains(got.Title, "synthetic") {
		t.Errorf("title %q", got.Title)
	}
	// 3 percentile plots (one per endpoint) and 5 timeline charts.
	if len(got.Charts) != 8 {
		t.Errorf("%d charts drawn, want 8: %+v", len(got.Charts), got.Charts)
	}
	for _, c := range got.Charts {
		if c.Lines == 0 || c.Width < 300 || c.Height < 100 {
			t.Errorf("chart %s: %d lines in %.0fx%.0f px, want lines in a visible box", c.ID, c.Lines, c.Width, c.Height)
		}
	}
	wantTables := map[string]bool{"thresholds": true, "endpoints": true, "latency": true, "types": true, "failures": true}
	for _, tb := range got.Tables {
		if tb.Rows == 0 || tb.Height < 20 {
			t.Errorf("table in %s: %d rows, %.0f px high", tb.Section, tb.Rows, tb.Height)
		}
		delete(wantTables, tb.Section)
	}
	if len(wantTables) > 0 {
		t.Errorf("tables missing from sections %v", wantTables)
	}
	want503 := 0
	for _, g := range r.Failures.ByReason {
		if g.Reason == "http 503" {
			want503++
		}
	}
	if got.Filtered != want503 || got.Unfiltred != len(r.Failures.ByReason) {
		t.Errorf("failure filter shows %d rows for 'http 503' (want %d) and %d unfiltered (want %d)", got.Filtered, want503, got.Unfiltred, len(r.Failures.ByReason))
	}
	for _, u := range v.requests {
		if u != "file://"+path {
			t.Errorf("the page requested %s: report.html must not touch the network", u)
		}
	}
	if len(v.requests) == 0 {
		t.Error("saw no request at all: the network listener is not working")
	}
	for _, p := range v.problems {
		t.Errorf("browser reported %s", p)
	}
}

// TestBrowserCheckCanFail proves the browser checks see what they guard
// against: a page that fetches from the network and logs an error.
func TestBrowserCheckCanFail(t *testing.T) {
	chromium := findChromium(t)
	path := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><head><title>bad</title></head><body>
<img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom"); undefinedFunction();</script></body></html>`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	v := visit(t, chromium, path, "")
	external := false
	for _, u := range v.requests {
		external = external || strings.HasPrefix(u, "http://127.0.0.1:9/")
	}
	if !external {
		t.Errorf("requests %q: the external image was not seen", v.requests)
	}
	all := strings.Join(v.problems, "\n")
	if !strings.Contains(all, "boom") || !strings.Contains(all, "exception") {
		t.Errorf("problems %q: want the console error and the exception", v.problems)
	}
}

// saveArtifact writes a test artefact into t.ArtifactDir (kept with
// go test -artifacts) and, when LOADGEN_ARTIFACTS is set, into that
// directory too so CI can collect it.
func saveArtifact(t *testing.T, name string, data []byte) {
	t.Helper()
	dirs := []string{t.ArtifactDir()}
	if d := os.Getenv("LOADGEN_ARTIFACTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot saved to %s", p)
	}
}
