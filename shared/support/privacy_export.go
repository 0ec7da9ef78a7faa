package support

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// BuildPersonalExportHooks registers support's exporter with the export host (docs/privacy.md).
func BuildPersonalExportHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterExporter("support", PersonalDataExporter(privacy.Reader{S: store.Open(rt)}))
	return nil
}

// PersonalDataExporter answers for support's items about a person: the tickets they opened, each
// with its messages (the conversation is theirs; an agent's reply keeps its text and role but not
// the agent's id), and their agent profile if they are an agent. Left out: the assignee's id and
// address, and the SLA job's bookkeeping.
func PersonalDataExporter(rd privacy.Reader) privacy.Exporter {
	return privacy.Sources(func(s privacy.Subject) []privacy.Source {
		mine, _ := store.RequesterTicketsGSI1(s.UserID, time.Time{}, "")
		return []privacy.Source{
			rd.Index("ticket", mine).Without("assignee", "assigneeEmail", "slaEvents", "slaCounted").
				Expanding(func(ctx context.Context, row, clean map[string]any) ([]privacy.Item, error) {
					if privacy.Str(row, "requesterId") != s.UserID {
						return nil, nil // the index lags a change of requester: read the item's own word
					}
					items := []privacy.Item{{Type: "ticket", Data: clean}}
					msgs, err := rd.All(ctx, store.TicketPK(privacy.Str(row, "id")), store.TicketMessagePrefix)
					if err != nil {
						return nil, err
					}
					for _, m := range msgs {
						var omit []string
						if privacy.Str(m, "authorId") != s.UserID {
							omit = append(omit, "authorId")
						}
						c := privacy.Clean(m, omit...)
						c["ticketId"] = privacy.Str(row, "id")
						items = append(items, privacy.Item{Type: "ticket-message", Data: c})
					}
					return items, nil
				}),
			rd.One("support-agent", store.SupportAgentKey(s.UserID)),
		}
	})
}
