// The API shapes the console's pages read (docs/openapi.yaml). Only the fields used are typed.

export type BasisPoints = number | null;

export interface Metrics {
  asOf: string;
  currency: string;
  mrrCents: number;
  payingCustomers: number;
  activeSubscriptions: Record<string, number>;
  churn: { churnedPaying: number; newPaying: number; payingAtStart: number; rateBasisPoints: BasisPoints };
  payments: { succeeded: number; failed: number; successRateBasisPoints: BasisPoints; revenueCents: number; refundedCents: number };
  enterprise: { licensesActive: number; seatsSold: number; seatsUsed: number };
  marketplace: {
    period: string;
    gmvCents: number;
    platformRevenueCents: number;
    instructorEarningsCents: number;
    paidOutCents: number;
  };
  tokens: { issued: number; redeemed: number; outstanding: number };
  support: { slaMet: number; slaBreached: number; slaMetPercent: number | null };
  latestSnapshot: string | null;
}

export interface HistoryDay {
  day: string;
  currency: string;
  mrrCents: number;
  payingCustomers: number;
  churn: { rateBasisPoints: BasisPoints };
  payments: { successRateBasisPoints: BasisPoints; revenueCents: number | null; refundedCents: number | null };
  marketplace: {
    gmvCents: number;
    platformRevenueCents: number;
    instructorEarningsCents: number;
    paidOutCents: number;
  } | null;
  tokens: { issued: number; redeemed: number; outstanding: number } | null;
  enterprise: { licensesActive: number; seatsSold: number; seatsUsed: number } | null;
  support: { slaMet: number; slaBreached: number; slaMetPercent: number | null } | null;
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface Payment {
  id: string;
  amountCents: number;
  currency: string;
  status: 'succeeded' | 'partially_refunded' | 'refunded';
  kind: 'subscription' | 'purchase';
  description: string;
  refundedCents: number;
  disputed: boolean;
  disputeStatus?: string;
  createdAt: string;
}

export interface Refund {
  id: string;
  paymentId: string;
  amountCents: number;
  currency: string;
  status: string;
  reason?: RefundReason;
  createdAt: string;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  requestId: string;
  details: Record<string, string>;
  chain?: string;
  seq?: number;
  hash?: string;
}

export interface TrialBalance {
  asOf: string;
  balanced: boolean;
  currencies: {
    currency: string;
    debits: number;
    credits: number;
    balanced: boolean;
    accounts: { account: string; name: string; type: string; normalSide: string; debits: number; credits: number; balance: number }[];
  }[];
}

export interface Movement {
  account: string;
  opening: number;
  increases: number;
  decreases: number;
  closing: number;
}

export interface Statement {
  month: string;
  closed: boolean;
  note?: string;
  currencies: {
    currency: string;
    streams: { stream: string; gross: number; refunds: number; disputes: number; net: number }[];
    netRevenue: number;
    stripeFees: number;
    disputeFees: number;
    netAfterFees: number;
    instructorPayable: { opening: number; credited: number; debited: number; paidOut: number; closing: number; buckets: Movement[] };
    tokenDiscounts: number;
    customerCredit: Movement;
  }[];
}

export interface Posting {
  entryId: string;
  line: number;
  date: string;
  time: string;
  account: string;
  debit: number;
  credit: number;
  currency: string;
  kind: string;
  area: string;
  source: string;
  party?: string;
  memo?: string;
}

export const BOOKS_ACCOUNTS = [
  'stripe_balance', 'stripe_in_flight', 'transfers_connected', 'bank', 'suspense', 'instructor_payable_pending',
  'instructor_payable_available', 'instructor_payable_held', 'customer_credit', 'revenue_subscriptions',
  'revenue_marketplace_commission', 'refunds_subscriptions', 'refunds_marketplace', 'disputes_subscriptions',
  'disputes_marketplace', 'fees_stripe_processing', 'fees_dispute', 'marketing_token_redemptions',
] as const;

export interface Earnings {
  currency: string;
  pendingCents: number;
  availableCents: number;
  heldCents: number;
  paidCents: number;
  balanceCents: number;
  nextReleaseAt: string | null;
  nextPayoutAt: string;
  payoutMinimumCents: number;
  payoutsEnabled: boolean;
}

export interface Sale {
  id: string;
  courseTitle: string;
  amountCents: number;
  currency: string;
  instructorShareCents: number;
  refundedCents: number;
  instructorNetCents: number;
  status: string;
  soldAt: string;
  releaseAt: string;
}

export interface Payout {
  id: string;
  instructorId: string;
  period: string;
  status: 'carried' | 'transferring' | 'paid' | 'failed';
  amountCents: number;
  currency: string;
  availableCents: number;
  carryReason?: string;
  transferId?: string;
  failureCode?: string;
  createdAt: string;
  paidAt?: string;
}
