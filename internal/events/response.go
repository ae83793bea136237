package events

// BatchEventResponse is what all three endpoints answer: one entry per
// event that was not taken.
type BatchEventResponse struct {
	Errors []EventError `json:"errors,omitempty"`
}

// EventError names one failed event inside a batch.
type EventError struct {
	EventID   string `json:"eventId,omitempty"`
	Message   string `json:"message,omitempty"`
	Retryable bool   `json:"retryable"`
}

// ErrorBody is the standard Genesys Cloud error body of 4xx/5xx responses.
type ErrorBody struct {
	Message           string            `json:"message,omitempty"`
	Code              string            `json:"code,omitempty"`
	Status            int               `json:"status,omitempty"`
	EntityID          string            `json:"entityId,omitempty"`
	EntityName        string            `json:"entityName,omitempty"`
	MessageWithParams string            `json:"messageWithParams,omitempty"`
	MessageParams     map[string]string `json:"messageParams,omitempty"`
	ContextID         string            `json:"contextId,omitempty"`
	Details           []Detail          `json:"details,omitempty"`
	Errors            []ErrorBody       `json:"errors,omitempty"`
	Limit             *Limit            `json:"limit,omitempty"`
}

// Detail is one detail entry of ErrorBody.
type Detail struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
}

// Limit is the limit that was exceeded (ErrorBody.Limit).
type Limit struct {
	Key       string `json:"key,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Value     int64  `json:"value,omitempty"`
}

// TokenResponse is the JSON answer of POST /oauth/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// TokenError is the error form of the token endpoint.
type TokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// MaxEventsPerRequest is the documented cap on events in one batch request.
const MaxEventsPerRequest = 100

// MaxRequestBytes is the platform's request.bytes.max.
const MaxRequestBytes = 512000
