// Package tap is a small Test Anything Protocol (version 13) writer with the
// API the runtime-tools validation programs use (github.com/mndrix/tap-go is
// not packaged in Debian). It is written for this harness; the output format
// follows the TAP 13 specification.
package tap

import (
	"fmt"
	"io"
	"os"
	"strings"

	yaml "gopkg.in/yaml.v2"
)

// T writes TAP for one test program. Copies made by Todo share the test
// counter, so numbering stays continuous.
type T struct {
	next   *int
	TODO   bool
	Writer io.Writer
}

// New returns a writer to stdout starting at test number 1.
func New() *T {
	n := 1
	return &T{next: &n}
}

func (t *T) printf(format string, a ...interface{}) {
	w := t.Writer
	if w == nil {
		w = os.Stdout
	}
	fmt.Fprintf(w, format, a...)
}

// Header prints the version line and, when testCount > 0, the plan.
func (t *T) Header(testCount int) {
	t.printf("TAP version 13\n")
	if testCount > 0 {
		t.printf("1..%d\n", testCount)
	}
}

// Ok records one assertion.
func (t *T) Ok(test bool, description string) {
	status := "ok"
	if !test {
		status = "not ok"
	}
	if t.TODO {
		t.printf("%s %d # TODO %s\n", status, *t.next, description)
	} else {
		t.printf("%s %d - %s\n", status, *t.next, description)
	}
	*t.next++
}

// Pass records a passing assertion.
func (t *T) Pass(description string) { t.Ok(true, description) }

// Fail records a failing assertion.
func (t *T) Fail(description string) { t.Ok(false, description) }

// Skip records count skipped assertions.
func (t *T) Skip(count int, description string) {
	for i := 0; i < count; i++ {
		t.printf("ok %d # SKIP %s\n", *t.next, description)
		*t.next++
	}
}

// Todo returns a writer whose assertions are marked TODO.
func (t *T) Todo() *T {
	c := *t
	c.TODO = true
	return &c
}

// Count is the number of assertions written so far.
func (t *T) Count() int { return *t.next - 1 }

// AutoPlan prints the plan for the assertions written so far.
func (t *T) AutoPlan() { t.printf("1..%d\n", t.Count()) }

func escapeNewlines(s string) string {
	return strings.Replace(strings.TrimRight(s, "\n"), "\n", "\n# ", -1)
}

// Diagnostic prints a comment line.
func (t *T) Diagnostic(message string) { t.printf("# %s\n", escapeNewlines(message)) }

// Diagnosticf prints a formatted comment line.
func (t *T) Diagnosticf(format string, a ...interface{}) {
	t.Diagnostic(fmt.Sprintf(format, a...))
}

// YAML prints a YAML diagnostic block attached to the previous assertion.
func (t *T) YAML(message interface{}) error {
	b, err := yaml.Marshal(message)
	if err != nil {
		return err
	}
	body := strings.TrimRight(string(b), "\n")
	t.printf("  ---\n  %s\n  ...\n", strings.Replace(body, "\n", "\n  ", -1))
	return nil
}
