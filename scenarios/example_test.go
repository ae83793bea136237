package scenarios_test

import (
	"errors"
	"fmt"

	"github.com/loadgen/loadgen/scenarios"
)

func ExampleParse() {
	s, err := scenarios.Parse("small.yaml", []byte(`
name: small
seed: 7
duration: 30s
agents: {count: 5}
arrivals: {rate: "30/min"}
voice:
  talk: {exponential: 2m, max: 10m}
thresholds:
  - events.failed == 0
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name, s.Duration, s.Agents.N(), s.Arrivals.Rate, s.Voice.Talk.Kind, s.Voice.Talk.Mean)
	fmt.Printf("%q at line %d\n", s.Thresholds[0].Expr, s.Thresholds[0].Line)

	_, err = scenarios.Parse("bad.yaml", []byte("name: bad\nduration: 30s\nvoice:\n  talk: {uniform: [5m, 1m]}\n"))
	fmt.Println(err)
	fmt.Println(errors.Is(err, scenarios.ErrInvalid))
	// Output:
	// small 30s 5 0.5 exponential 2m0s
	// "events.failed == 0" at line 10
	// bad.yaml:4:19: voice.talk.uniform: impossible distribution: min 5m0s is above max 1m0s
	// true
}
