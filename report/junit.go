package report

import (
	"encoding/xml"
	"fmt"
	"io"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML: one test case per threshold (the failure
// says actual against limit) and one per endpoint that saw traffic, which
// fails when events were rejected or failed or requests erred.
func WriteJUnit(w io.Writer, r *Run) error {
	secs := fmt.Sprintf("%.3f", r.Run.Duration().Seconds())
	ths := junitSuite{Name: "loadgen.thresholds", Time: secs, Timestamp: r.Run.StartedAt.Format("2006-01-02T15:04:05")}
	for _, t := range r.Thresholds {
		c := junitCase{Name: t.Expr, Classname: "loadgen.thresholds", Time: "0",
			SystemOut: fmt.Sprintf("actual %s, limit %s", fmtValue(t.Actual, t.Unit), fmtValue(t.Limit, t.Unit))}
		if !t.OK {
			c.Failure = &junitFailure{Type: "threshold",
				Message: fmt.Sprintf("%s: actual %s, limit %s (delta %s)", t.Expr, fmtValue(t.Actual, t.Unit), fmtValue(t.Limit, t.Unit), fmtDelta(t.Delta, t.Unit))}
			c.Failure.Text = c.Failure.Message
			ths.Failures++
		}
		ths.Cases = append(ths.Cases, c)
	}
	ths.Tests = len(ths.Cases)
	eps := junitSuite{Name: "loadgen.endpoints", Time: secs}
	for _, name := range r.endpointNames() {
		st := r.Endpoints[name]
		if st.Events.Generated == 0 && st.Requests == 0 {
			continue
		}
		c := junitCase{Name: name + " errors", Classname: "loadgen.endpoints", Time: secs,
			SystemOut: fmt.Sprintf("generated %d, accepted %d, requests %d", st.Events.Generated, st.Events.Accepted, st.Requests)}
		if st.Events.Rejected+st.Events.Failed > 0 || st.Errors > 0 {
			msg := fmt.Sprintf("%s: %d events rejected, %d failed, %d unsent; %d of %d requests erred, %d throttled",
				name, st.Events.Rejected, st.Events.Failed, st.Events.Unsent, st.Errors, st.Requests, st.Throttled)
			text := msg
			for _, g := range r.Failures.ByReason {
				if g.Endpoint == name {
					text += fmt.Sprintf("\n%d %s: %s", g.Count, g.Outcome, g.Reason)
				}
			}
			c.Failure = &junitFailure{Type: "errors", Message: msg, Text: text}
			eps.Failures++
		}
		eps.Cases = append(eps.Cases, c)
	}
	eps.Tests = len(eps.Cases)
	doc := junitSuites{Name: "loadgen " + r.Run.Scenario, Time: secs, Suites: []junitSuite{ths, eps}}
	doc.Tests = ths.Tests + eps.Tests
	doc.Failures = ths.Failures + eps.Failures
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	return nil
}
