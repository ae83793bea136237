package mock_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/loadgen/loadgen/internal/mock"
)

// ExampleNew runs the mock on a loopback httptest server, logs in with the
// client-credentials grant, posts a routing-status batch with one invalid
// event and reads the stats.
func ExampleNew() {
	srv, err := mock.New(mock.Config{ClientID: "my-client", ClientSecret: "my-secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	req, _ := http.NewRequest(http.MethodPost, ts.URL+mock.TokenPath,
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-client", "my-secret")
	resp, err := ts.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println("token expires in", tok.ExpiresIn, "s")

	body := `{"userRoutingStatusEvents":[
	 {"eventId":"3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57","eventDateTime":"2025-03-10T14:03:52.300Z",
	  "agentId":"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36","status":"Interacting","sourceId":"e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"},
	 {"eventId":"4a9f2b7d-8e3c-4da6-b1f5-7c2e0a4d3b68","eventDateTime":"2025-03-10T14:03:53.000Z",
	  "agentId":"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36","status":"Busy","sourceId":"e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"}]}`
	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/api/v2/events/users/routingstatus", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = ts.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(answer))

	rs := srv.Stats().Endpoints["routingstatus"]
	fmt.Printf("requests %d, accepted %d, rejected %d\n", rs.Requests, rs.Accepted, rs.Rejected)
	// Output:
	// token expires in 86400 s
	// 202 {"errors":[{"eventId":"4a9f2b7d-8e3c-4da6-b1f5-7c2e0a4d3b68","message":"userRoutingStatusEvents[1].status: \"Busy\" is not one of OffQueue, Idle, Interacting, Communicating, NotResponding","retryable":false}]}
	// requests 1, accepted 1, rejected 1
}
