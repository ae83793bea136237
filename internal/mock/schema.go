package mock

import (
	"fmt"
	"strings"

	"github.com/loadgen/loadgen/internal/events"
)

// role marks the fields the life-cycle checks need, so the scanner can pick
// them up on its single pass.
type role uint8

const (
	roleNone role = iota
	roleEventID
	roleConversationID
	roleCommunicationID
	roleCommandID
	roleRef // names a leg: invitedBy, previousEmailId, *CommunicationId
)

// field is one compiled field of a model.
type field struct {
	name     string
	kind     events.Kind
	required bool
	enum     []string
	enumText string // "A, B, C" for messages
	sub      *model // KindObject, KindObjectArray
	role     role
	bit      uint64
}

// model is a compiled event type or embedded model.
type model struct {
	name     string
	fields   []field
	required uint64 // bits of the required fields
}

// lookup finds key, starting where the previous field matched: senders
// write fields in schema order, so the first probe nearly always hits.
func (m *model) lookup(key []byte, hint *int) *field {
	n := len(m.fields)
	i := *hint
	for range n {
		if i >= n {
			i = 0
		}
		if f := &m.fields[i]; f.name == string(key) {
			*hint = i + 1
			return f
		}
		i++
	}
	return nil
}

// tables holds the compiled metadata: built once by New, read-only after,
// so safe for concurrent use.
type tables struct {
	types [events.NumTypes]*model
	// props maps a batch body property to its type, per endpoint.
	props [events.NumEndpoints]map[string]events.Type
}

func compileTables() (*tables, error) {
	t := &tables{}
	embedded := map[string]*model{}
	var compile func(name string, fs []events.Field, top bool) (*model, error)
	compile = func(name string, fs []events.Field, top bool) (*model, error) {
		if len(fs) > 64 {
			return nil, fmt.Errorf("mock: model %s has %d fields, more than 64", name, len(fs))
		}
		m := &model{name: name, fields: make([]field, len(fs))}
		for i, f := range fs {
			cf := field{name: f.Name, kind: f.Kind, required: f.Required, enum: f.Enum,
				enumText: strings.Join(f.Enum, ", "), bit: 1 << i}
			if f.Required {
				m.required |= cf.bit
			}
			switch {
			case top && f.Name == "eventId":
				cf.role = roleEventID
			case top && f.Name == "conversationId":
				cf.role = roleConversationID
			case top && f.Name == "communicationId":
				cf.role = roleCommunicationID
			case top && f.Name == "commandId":
				cf.role = roleCommandID
			case f.Kind == events.KindUUID && (f.Name == "invitedBy" || f.Name == "previousEmailId" ||
				strings.HasSuffix(f.Name, "CommunicationId")):
				cf.role = roleRef
			}
			if f.Kind == events.KindObject || f.Kind == events.KindObjectArray {
				sub, ok := embedded[f.Ref]
				if !ok {
					efs, found := events.EmbeddedFields(f.Ref)
					if !found {
						return nil, fmt.Errorf("mock: model %s field %s: unknown model %q", name, f.Name, f.Ref)
					}
					var err error
					if sub, err = compile(f.Ref, efs, false); err != nil {
						return nil, err
					}
					embedded[f.Ref] = sub
				}
				cf.sub = sub
			}
			m.fields[i] = cf
		}
		return m, nil
	}
	for i := range t.props {
		t.props[i] = map[string]events.Type{}
	}
	for _, typ := range events.Types() {
		m, err := compile(typ.String(), typ.Fields(), true)
		if err != nil {
			return nil, err
		}
		t.types[typ] = m
		t.props[typ.Endpoint()][typ.BatchProperty()] = typ
	}
	return t, nil
}

// lifeCycle classifies a type for the checks of docs/contracts.md.
type lifeCycle uint8

const (
	lcOther lifeCycle = iota
	lcEstablish
	lcEnd
	lcDisposition
	lcTransferStart
	lcTransferFollow // Progress*/End* transfers: commandId must be known
)

func lifeCycleOf(t events.Type) lifeCycle {
	switch t {
	case events.TypeExternalEstablished, events.TypeIvrEstablished, events.TypePhoneEstablished,
		events.TypeRoutingEstablished, events.TypeUserEstablished,
		events.TypeEmailExternalEstablished, events.TypeEmailFlowEstablished,
		events.TypeEmailRoutingEstablished, events.TypeEmailUserEstablished:
		return lcEstablish
	case events.TypeCommunicationEnded, events.TypeEmailCommunicationEnded:
		return lcEnd
	case events.TypeCommunicationDispositionApplied, events.TypeEmailCommunicationDispositionApplied:
		return lcDisposition
	case events.TypeRoutingTransfer, events.TypeUserTransfer, events.TypePhoneTransfer,
		events.TypeEmailRoutingTransfer, events.TypeEmailUserTransfer:
		return lcTransferStart
	case events.TypeProgressTransfer, events.TypeEndTransfer,
		events.TypeEmailProgressTransfer, events.TypeEmailEndTransfer:
		return lcTransferFollow
	}
	return lcOther
}
