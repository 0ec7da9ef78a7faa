package migrations

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/migrate"
	"github.com/liberation/monetization/shared/store"
)

// PersonalExportType is the item type of a personal-data export (shared/privacy, USER#<u>/EXPORT#<id>).
const PersonalExportType = "personal-export"

// privacyRequestsIndex (0001): personal-data exports created before the admins' list of privacy
// requests existed have no GSI1PK/GSI1SK, so GET /admin/privacy-requests does not show them. The
// step gives each export lacking them the keys privacy.Repo.Create writes today:
// store.PrivacyRequestsGSI1(createdAt, id). An export that has them is left alone (idempotent).
func privacyRequestsIndex() migrate.Migration {
	return migrate.Migration{Number: 1, Name: "privacy-requests-index", Types: []string{PersonalExportType},
		Step: func(item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
			var e struct {
				Type      string    `dynamodbav:"type"`
				GSI1PK    string    `dynamodbav:"GSI1PK"`
				ID        string    `dynamodbav:"id"`
				CreatedAt time.Time `dynamodbav:"createdAt"`
			}
			if err := store.DecodeItem(item, &e); err != nil {
				return nil, err
			}
			if e.Type != PersonalExportType || e.GSI1PK != "" {
				return nil, nil
			}
			if e.ID == "" || e.CreatedAt.IsZero() {
				return nil, apperr.New(apperr.Internal, "a personal export without id or createdAt: a person must look at it")
			}
			pk, sk := store.PrivacyRequestsGSI1(e.CreatedAt, e.ID)
			return map[string]types.AttributeValue{"GSI1PK": store.S(pk), "GSI1SK": store.S(sk)}, nil
		}}
}
