package rewards

import (
	"context"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Constructors of the area's functions: functions/<name>/main.go (generated) and the local gateway
// call New<Name>(runtime).

func route(rt *platform.Runtime, h func(manifest.Function, *Deps) httpapi.Lambda) (httpapi.Lambda, error) {
	return h(rt.Fn, NewDeps(rt)), nil
}

// NewGetTokenBalance builds GET /tokens.
func NewGetTokenBalance(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleGetTokenBalance)
}

// NewListTokenTransactions builds GET /tokens/transactions.
func NewListTokenTransactions(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleListTokenTransactions)
}

// NewCreateRedemption builds POST /tokens/redemptions.
func NewCreateRedemption(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleCreateRedemption)
}

// NewListMyRedemptions builds GET /tokens/redemptions.
func NewListMyRedemptions(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleListMyRedemptions)
}

// NewCancelRedemption builds POST /tokens/redemptions/{redemptionId}/cancel.
func NewCancelRedemption(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleCancelRedemption)
}

// NewAdjustTokens builds POST /admin/tokens/adjustments.
func NewAdjustTokens(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleAdjustTokens)
}

// NewListRedemptions builds GET /admin/redemptions.
func NewListRedemptions(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleListRedemptions)
}

// NewGetTokenMetrics builds GET /admin/tokens/metrics.
func NewGetTokenMetrics(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleGetTokenMetrics)
}

// NewGetGlobalLeaderboard builds GET /leaderboards/global.
func NewGetGlobalLeaderboard(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleGetGlobalLeaderboard)
}

// NewGetMyGlobalRank builds GET /leaderboards/global/me.
func NewGetMyGlobalRank(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleGetMyGlobalRank)
}

// NewGetFriendsLeaderboard builds GET /leaderboards/friends.
func NewGetFriendsLeaderboard(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleGetFriendsLeaderboard)
}

// NewGetClassLeaderboard builds GET /leaderboards/classes/{classId}.
func NewGetClassLeaderboard(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleGetClassLeaderboard)
}

// NewGetProfile builds GET /me/profile.
func NewGetProfile(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, HandleGetProfile) }

// NewUpdateProfile builds PUT /me/profile.
func NewUpdateProfile(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleUpdateProfile)
}

// NewFollowUser builds PUT /me/friends/{userId}.
func NewFollowUser(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, HandleFollowUser) }

// NewUnfollowUser builds DELETE /me/friends/{userId}.
func NewUnfollowUser(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleUnfollowUser)
}

// NewListFriends builds GET /me/friends.
func NewListFriends(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleListFriends)
}

// NewCreateClass builds POST /classes.
func NewCreateClass(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleCreateClass)
}

// NewJoinClass builds POST /classes/join.
func NewJoinClass(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, HandleJoinClass) }

// NewGetClass builds GET /classes/{classId}.
func NewGetClass(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, HandleGetClass) }

// NewRemoveClassMember builds DELETE /classes/{classId}/members/{userId}.
func NewRemoveClassMember(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, HandleRemoveClassMember)
}

// NewReleasePendingTokens builds the release-pending-tokens job.
func NewReleasePendingTokens(rt *platform.Runtime) (job.Handler[ReleaseReport], error) {
	d := NewDeps(rt)
	return job.Handle(rt.Log, func(ctx context.Context) (ReleaseReport, error) { return RunReleasePendingTokens(ctx, d) }), nil
}
