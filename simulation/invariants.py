"""The invariants a run must leave true, each one set-based SQL query over the whole database.

Every query returns the rows that break its invariant (none when all is well). They
run together in one read-only REPEATABLE READ transaction, so they see one instant.
These are the simulation's own checks, written from the contract (design sections 3,
4, 7, 16 and docs/), not the test suite's helpers.
"""

from dataclasses import dataclass

from django.db import connection, transaction

TERMINAL_WITHDRAWAL = "('paid', 'returned', 'rejected', 'canceled')"
# Deposits whose money came in (a charged-back one came in first), withdrawals whose money went out.
COMPLETED_DEPOSIT = "('completed', 'charged_back', 'chargeback_reversed', 'charged_back_again')"
# Deposits charged back once (a reversed one was first), reversed once (a second chargeback follows a reversal).
CHARGED_BACK_DEPOSIT = "('charged_back', 'chargeback_reversed', 'charged_back_again')"
REVERSED_DEPOSIT = "('chargeback_reversed', 'charged_back_again')"
PAID_WITHDRAWAL = "('paid', 'returned')"

# Method m's net deposits into wallet r.wallet_id as they stood just before entry r.at was written.
_NET_AT = """
    COALESCE((SELECT SUM(d.amount) FROM wallet_deposit d
              JOIN wallet_journalentry c ON c.deposit_id = d.id AND c.event_type = 'deposit_completed'
              WHERE d.wallet_id = r.wallet_id AND d.payment_method_id = m.id AND c.id < r.at
                AND NOT EXISTS (
                    SELECT 1 FROM wallet_journalentry b
                    WHERE b.deposit_id = d.id AND b.event_type = 'deposit_charged_back' AND b.id < r.at
                      AND NOT EXISTS (SELECT 1 FROM wallet_journalentry v WHERE v.deposit_id = d.id
                                      AND v.event_type = 'chargeback_reversed' AND v.id < r.at))
                AND NOT EXISTS (
                    SELECT 1 FROM wallet_journalentry a WHERE a.deposit_id = d.id
                    AND a.event_type = 'deposit_charged_back_again' AND a.id < r.at)), 0)
    - COALESCE((SELECT SUM(y.amount) FROM wallet_withdrawal y
                JOIN wallet_journalentry q ON q.withdrawal_id = y.id AND q.event_type = 'withdraw_requested'
                WHERE y.wallet_id = r.wallet_id AND y.payment_method_id = m.id AND q.id < r.at
                  AND NOT EXISTS (SELECT 1 FROM wallet_journalentry z WHERE z.withdrawal_id = y.id
                                  AND z.event_type IN ('withdraw_released', 'withdraw_returned')
                                  AND z.id < r.at)), 0) AS net"""

# A payout the sandbox PSP was steered to hold ("hold"): it never decides it, so the
# attempt and its withdrawal stay open by design. Nothing else may stay open.
HELD_AT_PSP = """
    SELECT a.id FROM payouts_payoutattempt a
    JOIN sandbox_psp_sandboxpayout sp ON sp.idempotency_key = a.id::text
    WHERE a.status = 'pending' AND sp.status = 'pending'
"""


# A player's KYC status when withdrawal `w` was requested: the last change before it, else the
# status the first later change started from, else the status now (no change ever).
KYC_AT_REQUEST = """COALESCE(
    (SELECT k.to_status FROM players_kyccheck k WHERE k.player_id = w.player_id AND k.created_at <= w.created_at
     ORDER BY k.created_at DESC, k.id DESC LIMIT 1),
    (SELECT k.from_status FROM players_kyccheck k WHERE k.player_id = w.player_id AND k.created_at > w.created_at
     ORDER BY k.created_at, k.id LIMIT 1),
    p.kyc_status)"""


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str


CHECKS = (
    Check(
        "no_negative_balance",
        "no wallet below zero (available, held, and what the player owes)",
        """SELECT w.id, t.slug, w.currency, w.balance_available, w.balance_held, w.balance_receivable
           FROM wallet_wallet w JOIN tenants_tenant t ON t.id = w.tenant_id
           WHERE w.balance_available < 0 OR w.balance_held < 0 OR w.balance_receivable < 0""",
    ),
    Check(
        "wallet_equals_ledger",
        "every wallet equals the sum of its ledger postings (available, held, and the receivable, which the "
        "ledger keeps below zero)",
        """SELECT w.id, w.currency, w.balance_available, COALESCE(l.available, 0), w.balance_held, COALESCE(l.held, 0),
                  w.balance_receivable, -COALESCE(l.receivable, 0)
           FROM wallet_wallet w
           LEFT JOIN (SELECT wallet_id,
                             SUM(amount) FILTER (WHERE account = 'player_available') AS available,
                             SUM(amount) FILTER (WHERE account = 'player_held') AS held,
                             SUM(amount) FILTER (WHERE account = 'player_receivable') AS receivable
                      FROM wallet_posting WHERE wallet_id IS NOT NULL GROUP BY wallet_id) l ON l.wallet_id = w.id
           WHERE w.balance_available <> COALESCE(l.available, 0) OR w.balance_held <> COALESCE(l.held, 0)
              OR w.balance_receivable <> -COALESCE(l.receivable, 0)""",
    ),
    Check(
        "receivables_equal_ledger",
        "per tenant and currency: what players owe (wallets' receivables) = minus the ledger's player_receivable "
        "account, and nobody owes without a chargeback behind it",
        f"""WITH owed AS (SELECT tenant_id, currency, SUM(balance_receivable) AS money
                         FROM wallet_wallet GROUP BY 1, 2),
                ledger AS (SELECT e.tenant_id, e.currency, -SUM(p.amount) AS money
                           FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id
                           WHERE p.account = 'player_receivable' GROUP BY 1, 2)
           SELECT 'receivables differ from the ledger', t.slug || ' ' || currency,
                  COALESCE(o.money, 0) || ' vs ' || COALESCE(l.money, 0)
           FROM owed o FULL JOIN ledger l USING (tenant_id, currency)
           JOIN tenants_tenant t ON t.id = COALESCE(o.tenant_id, l.tenant_id)
           WHERE COALESCE(o.money, 0) <> COALESCE(l.money, 0)
           UNION ALL
           SELECT 'owing without a chargeback', w.id::text, w.balance_receivable || ' ' || w.currency
           FROM wallet_wallet w
           WHERE w.balance_receivable > 0 AND NOT EXISTS (
               SELECT 1 FROM wallet_deposit d WHERE d.wallet_id = w.id AND d.state IN {CHARGED_BACK_DEPOSIT})""",
    ),
    Check(
        "journal_entry_balances",
        "every journal entry has at least two postings that sum to zero",
        """SELECT e.id, e.event_type, COUNT(p.id), COALESCE(SUM(p.amount), 0)
           FROM wallet_journalentry e LEFT JOIN wallet_posting p ON p.entry_id = e.id
           GROUP BY e.id, e.event_type
           HAVING COUNT(p.id) < 2 OR COALESCE(SUM(p.amount), 0) <> 0""",
    ),
    Check(
        "money_conservation",
        "per tenant and currency: player money - what players owe = deposits - chargebacks + reversals "
        "- second chargebacks - paid "
        "withdrawals + returned payouts - (bets - wins - rolled-back bets), and -PSP clearing = the same "
        "without play",
        f"""WITH keys AS (
               SELECT tenant_id, currency FROM wallet_wallet
               UNION SELECT tenant_id, currency FROM wallet_deposit
               UNION SELECT tenant_id, currency FROM wallet_withdrawal
               UNION SELECT tenant_id, currency FROM games_gametransaction),
           players AS (SELECT tenant_id, currency, SUM(balance_available + balance_held - balance_receivable) AS money
                       FROM wallet_wallet GROUP BY 1, 2),
           deposits AS (SELECT tenant_id, currency,
                               SUM(amount) FILTER (WHERE state IN {COMPLETED_DEPOSIT})
                               - COALESCE(SUM(amount) FILTER (WHERE state IN {CHARGED_BACK_DEPOSIT}), 0)
                               + COALESCE(SUM(amount) FILTER (WHERE state IN {REVERSED_DEPOSIT}), 0)
                               - COALESCE(SUM(amount) FILTER (WHERE state = 'charged_back_again'), 0) AS money
                        FROM wallet_deposit GROUP BY 1, 2),
           paid AS (SELECT tenant_id, currency,
                           SUM(amount) FILTER (WHERE state IN {PAID_WITHDRAWAL})
                           - COALESCE(SUM(amount) FILTER (WHERE state = 'returned'), 0) AS money
                    FROM wallet_withdrawal GROUP BY 1, 2),
           clearing AS (SELECT e.tenant_id, e.currency, SUM(p.amount) AS money
                        FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id
                        WHERE p.account = 'psp_clearing' GROUP BY 1, 2),
           play AS (SELECT tenant_id, currency,
                           SUM(CASE kind WHEN 'bet' THEN amount ELSE -amount END) AS money
                    FROM games_gametransaction WHERE status = 'applied' GROUP BY 1, 2)
           SELECT t.slug, k.currency, COALESCE(pl.money, 0) AS players, COALESCE(d.money, 0) AS deposits,
                  COALESCE(pa.money, 0) AS paid, COALESCE(g.money, 0) AS net_play, COALESCE(c.money, 0) AS clearing
           FROM keys k JOIN tenants_tenant t ON t.id = k.tenant_id
           LEFT JOIN players pl USING (tenant_id, currency) LEFT JOIN deposits d USING (tenant_id, currency)
           LEFT JOIN paid pa USING (tenant_id, currency) LEFT JOIN clearing c USING (tenant_id, currency)
           LEFT JOIN play g USING (tenant_id, currency)
           WHERE COALESCE(pl.money, 0) <> COALESCE(d.money, 0) - COALESCE(pa.money, 0) - COALESCE(g.money, 0)
              OR COALESCE(c.money, 0) <> COALESCE(pa.money, 0) - COALESCE(d.money, 0)""",
    ),
    Check(
        "game_house_balance",
        "per tenant and currency: the game house account (ledger game_house) = applied bets - wins - rollbacks",
        """WITH house AS (SELECT e.tenant_id, e.currency, SUM(p.amount) AS money
                         FROM wallet_posting p JOIN wallet_journalentry e ON e.id = p.entry_id
                         WHERE p.account = 'game_house' GROUP BY 1, 2),
                play AS (SELECT tenant_id, currency,
                                SUM(CASE kind WHEN 'bet' THEN amount ELSE -amount END) AS money
                         FROM games_gametransaction WHERE status = 'applied' GROUP BY 1, 2)
           SELECT t.slug, currency, COALESCE(h.money, 0) AS house, COALESCE(g.money, 0) AS net_play
           FROM house h FULL JOIN play g USING (tenant_id, currency)
           JOIN tenants_tenant t ON t.id = COALESCE(h.tenant_id, g.tenant_id)
           WHERE COALESCE(h.money, 0) <> COALESCE(g.money, 0)""",
    ),
    Check(
        "game_transaction_journaled_once",
        "each applied game transaction has exactly one journal entry, of its kind's event and amount; "
        "no other game transaction (refused, no effect, canceled) has one",
        """SELECT g.id::text, g.kind, g.status, g.amount, COUNT(e.id) AS entries,
                  string_agg(e.event_type, ',') AS events
           FROM games_gametransaction g LEFT JOIN wallet_journalentry e ON e.game_transaction_id = g.id
           GROUP BY g.id, g.kind, g.status, g.amount
           HAVING COUNT(e.id) <> CASE WHEN g.status = 'applied' THEN 1 ELSE 0 END
               OR bool_or(e.event_type <> CASE g.kind WHEN 'bet' THEN 'bet_placed' WHEN 'win' THEN 'win_paid'
                                                      ELSE 'bet_rolled_back' END)
               OR bool_or((SELECT SUM(ABS(p.amount)) FROM wallet_posting p WHERE p.entry_id = e.id) <> 2 * g.amount)""",
    ),
    Check(
        "money_events_match_state",
        "each deposit and withdrawal has exactly the money events its state implies, each at most once "
        "(a paid or returned withdrawal one withdraw_paid, a returned one also one withdraw_returned; a "
        "completed deposit one deposit_completed, a charged-back one also one deposit_charged_back, a "
        "reversed one also one chargeback_reversed, one charged back again also one deposit_charged_back_again)",
        f"""SELECT 'withdrawal', x.id, x.state,
                  string_agg(e.event_type, ',' ORDER BY e.id) AS events
           FROM wallet_withdrawal x LEFT JOIN wallet_journalentry e ON e.withdrawal_id = x.id
           GROUP BY x.id, x.state
           HAVING COUNT(e.id) FILTER (WHERE e.event_type = 'withdraw_requested') <> 1
               OR COUNT(e.id) FILTER (WHERE e.event_type = 'withdraw_released')
                  <> CASE WHEN x.state IN ('rejected', 'canceled') THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type = 'withdraw_paid')
                  <> CASE WHEN x.state IN {PAID_WITHDRAWAL} THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type = 'withdraw_returned')
                  <> CASE WHEN x.state = 'returned' THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type NOT IN
                  ('withdraw_requested', 'withdraw_released', 'withdraw_paid', 'withdraw_returned')) <> 0
           UNION ALL
           SELECT 'deposit', d.id, d.state, string_agg(e.event_type, ',' ORDER BY e.id)
           FROM wallet_deposit d LEFT JOIN wallet_journalentry e ON e.deposit_id = d.id
           GROUP BY d.id, d.state
           HAVING COUNT(e.id) FILTER (WHERE e.event_type = 'deposit_completed')
                  <> CASE WHEN d.state IN {COMPLETED_DEPOSIT} THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type = 'deposit_charged_back')
                  <> CASE WHEN d.state IN {CHARGED_BACK_DEPOSIT} THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type = 'chargeback_reversed')
                  <> CASE WHEN d.state IN {REVERSED_DEPOSIT} THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type = 'deposit_charged_back_again')
                  <> CASE WHEN d.state = 'charged_back_again' THEN 1 ELSE 0 END
               OR COUNT(e.id) FILTER (WHERE e.event_type NOT IN
                  ('deposit_completed', 'deposit_charged_back', 'chargeback_reversed',
                   'deposit_charged_back_again')) <> 0""",
    ),
    Check(
        "paid_withdrawal_payout_attempts",
        "a withdrawal paid through the PSP (returned later or not) has exactly one succeeded payout attempt "
        "and came from payout_pending; one marked paid by hand has no attempt, came from approved and "
        "was never returned; no other withdrawal has a succeeded attempt",
        f"""WITH per AS (
               SELECT x.id, x.state, COUNT(a.id) AS attempts,
                      COUNT(a.id) FILTER (WHERE a.status = 'succeeded') AS succeeded,
                      (SELECT string_agg(h.from_state, ',') FROM wallet_withdrawaltransition h
                       WHERE h.withdrawal_id = x.id AND h.to_state = 'paid') AS paid_from
               FROM wallet_withdrawal x LEFT JOIN payouts_payoutattempt a ON a.withdrawal_id = x.id
               GROUP BY x.id, x.state)
           SELECT id, state, attempts, succeeded, paid_from FROM per
           WHERE (state IN {PAID_WITHDRAWAL} AND attempts > 0
                  AND (succeeded <> 1 OR paid_from IS DISTINCT FROM 'payout_pending'))
              OR (state = 'paid' AND attempts = 0 AND paid_from IS DISTINCT FROM 'approved')
              OR (state = 'returned' AND attempts = 0)
              OR (state NOT IN {PAID_WITHDRAWAL} AND succeeded <> 0)""",
    ),
    Check(
        "webhook_applied_once",
        "no webhook event stored or applied twice: one row per webhook-id, at most one applied event of "
        "each type per deposit and per payout attempt; a completed deposit by exactly one applied "
        "payment.succeeded, a charged-back one by one payment.charged_back, a reversed one by one "
        "payment.chargeback_reversed, one charged back again by one payment.second_chargeback (an event "
        "that overtook the earlier ones applies them too); each "
        "returned withdrawal by exactly one applied payout.returned; every delivery the PSP saw "
        "acknowledged is stored",
        f"""SELECT 'webhook-id stored twice' AS problem, event_id AS object, COUNT(*)::text AS detail
           FROM payouts_webhookevent GROUP BY provider, event_id HAVING COUNT(*) > 1
           UNION ALL
           SELECT 'deposit moved by several events of a type', deposit_id::text, string_agg(event_id, ',')
           FROM payouts_webhookevent WHERE outcome = 'applied' AND deposit_id IS NOT NULL
           GROUP BY deposit_id, event_type HAVING COUNT(*) > 1
           UNION ALL
           SELECT 'payout attempt moved by several events of a type', payout_attempt_id::text,
                  string_agg(event_id, ',')
           FROM payouts_webhookevent WHERE outcome = 'applied' AND payout_attempt_id IS NOT NULL
           GROUP BY payout_attempt_id, event_type HAVING COUNT(*) > 1
           UNION ALL
           SELECT 'deposit events applied do not explain its state', d.id::text,
                  d.state || ': ' || COALESCE(string_agg(w.event_type, ',' ORDER BY w.id), 'none')
           FROM wallet_deposit d LEFT JOIN payouts_webhookevent w ON w.deposit_id = d.id AND w.outcome = 'applied'
           WHERE d.state IN {COMPLETED_DEPOSIT} GROUP BY d.id, d.state
           HAVING COUNT(w.id) = 0
               OR (d.state = 'completed' AND COUNT(w.id) FILTER (WHERE w.event_type = 'payment.succeeded') <> 1)
               OR (d.state = 'charged_back'
                   AND COUNT(w.id) FILTER (WHERE w.event_type = 'payment.charged_back') <> 1)
               OR (d.state = 'chargeback_reversed'
                   AND COUNT(w.id) FILTER (WHERE w.event_type = 'payment.chargeback_reversed') <> 1)
               OR (d.state = 'charged_back_again'
                   AND COUNT(w.id) FILTER (WHERE w.event_type = 'payment.second_chargeback') <> 1)
           UNION ALL
           SELECT 'returned withdrawal without exactly one applied payout.returned', x.id::text,
                  COUNT(w.id)::text
           FROM wallet_withdrawal x JOIN payouts_payoutattempt a ON a.withdrawal_id = x.id AND a.status = 'succeeded'
           LEFT JOIN payouts_webhookevent w
             ON w.payout_attempt_id = a.id AND w.outcome = 'applied' AND w.event_type = 'payout.returned'
           WHERE x.state = 'returned' GROUP BY x.id HAVING COUNT(w.id) <> 1
           UNION ALL
           SELECT 'delivered (2xx) but not stored', sd.event_id, sd.event_type
           FROM sandbox_psp_sandboxdelivery sd
           WHERE sd.delivered_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM payouts_webhookevent w WHERE w.event_id = sd.event_id)""",
    ),
    Check(
        "nothing_left_open",
        "after the drain every deposit, withdrawal, payout attempt and webhook delivery is final, "
        "except payouts the PSP was told to hold",
        f"""SELECT 'deposit', d.id::text, d.state FROM wallet_deposit d
           WHERE d.state NOT IN ('completed', 'failed', 'charged_back', 'chargeback_reversed', 'charged_back_again')
           UNION ALL
           SELECT 'withdrawal', x.id::text, x.state FROM wallet_withdrawal x
           WHERE x.state NOT IN {TERMINAL_WITHDRAWAL}
             AND NOT (x.state = 'payout_pending' AND EXISTS (
                 SELECT 1 FROM payouts_payoutattempt a WHERE a.withdrawal_id = x.id AND a.id IN ({HELD_AT_PSP})))
           UNION ALL
           SELECT 'payout attempt', a.id::text, a.status FROM payouts_payoutattempt a
           WHERE a.status = 'pending' AND a.id NOT IN ({HELD_AT_PSP})
           UNION ALL
           SELECT 'webhook delivery', sd.event_id, CASE WHEN sd.gave_up_at IS NULL THEN 'queued' ELSE 'given up' END
           FROM sandbox_psp_sandboxdelivery sd WHERE sd.delivered_at IS NULL""",
    ),
    Check(
        "psp_never_paid_twice",
        "at most one succeeded payout at the PSP per withdrawal, and none the product has no attempt for",
        """SELECT 'several PSP payouts succeeded', a.withdrawal_id::text, COUNT(*)::text
           FROM sandbox_psp_sandboxpayout sp JOIN payouts_payoutattempt a ON a.id::text = sp.idempotency_key
           WHERE sp.status = 'succeeded' GROUP BY a.withdrawal_id HAVING COUNT(*) > 1
           UNION ALL
           SELECT 'PSP payout without a payout attempt', sp.idempotency_key, sp.status
           FROM sandbox_psp_sandboxpayout sp
           WHERE NOT EXISTS (SELECT 1 FROM payouts_payoutattempt a WHERE a.id::text = sp.idempotency_key)""",
    ),
    Check(
        "psp_agrees",
        "the PSP and the product agree: payouts succeeded at the PSP are succeeded attempts and the "
        "other way round, amounts match, and a payout returned at the PSP is a returned withdrawal and the other "
        "way round; payments paid at the PSP are completed deposits and the other way round, and a payment's "
        "dispute at the PSP is its deposit's state (charged_back, chargeback_reversed, charged_back_again)",
        f"""SELECT 'payout: PSP ' || COALESCE(sp.status, 'missing') || ', attempt ' || a.status, a.id::text, x.state
           FROM payouts_payoutattempt a JOIN wallet_withdrawal x ON x.id = a.withdrawal_id
           LEFT JOIN sandbox_psp_sandboxpayout sp ON sp.idempotency_key = a.id::text
           WHERE (sp.status = 'succeeded') <> (a.status = 'succeeded')
              OR (a.status = 'succeeded' AND sp.id IS NULL)
              OR (sp.status = 'failed' AND a.status = 'pending')
           UNION ALL
           SELECT 'payout amount differs', a.id::text,
                  sp.amount || ' ' || sp.currency || ' vs ' || x.amount || ' ' || x.currency
           FROM payouts_payoutattempt a JOIN wallet_withdrawal x ON x.id = a.withdrawal_id
           JOIN sandbox_psp_sandboxpayout sp ON sp.idempotency_key = a.id::text
           WHERE sp.amount <> x.amount OR sp.currency <> x.currency
           UNION ALL
           SELECT 'payout: returned at the PSP ' || (sp.returned_at IS NOT NULL) || ', withdrawal ' || x.state,
                  a.id::text, x.reference
           FROM payouts_payoutattempt a JOIN wallet_withdrawal x ON x.id = a.withdrawal_id
           JOIN sandbox_psp_sandboxpayout sp ON sp.idempotency_key = a.id::text
           WHERE a.status = 'succeeded' AND (sp.returned_at IS NOT NULL) <> (x.state = 'returned')
           UNION ALL
           SELECT 'deposit ' || d.state || ', PSP payment ' || COALESCE(p.status, 'missing'), d.id::text,
                  d.amount || ' ' || d.currency
           FROM wallet_deposit d LEFT JOIN sandbox_psp_sandboxpayment p ON p.reference = d.id::text
           WHERE (d.state IN {COMPLETED_DEPOSIT}) <> (COALESCE(p.status, '') = 'paid')
              OR (p.id IS NOT NULL AND (p.amount <> d.amount OR p.currency <> d.currency))
              OR (d.state IN {CHARGED_BACK_DEPOSIT} AND d.state IS DISTINCT FROM NULLIF(p.dispute, ''))
              OR (d.state = 'completed' AND COALESCE(p.dispute, '') <> '')""",
    ),
    Check(
        "four_eyes",
        "a withdrawal at or above its tenant's four-eyes amount was approved by two different operators, "
        "and whoever marked a withdrawal paid neither requested nor approved it",
        """SELECT 'approved with fewer than two approvals', x.id::text, COUNT(DISTINCT ap.operator_id)::text
           FROM wallet_withdrawal x
           JOIN tenants_paymentpolicy pp ON pp.tenant_id = x.tenant_id
           JOIN tenants_currencylimit cl ON cl.policy_id = pp.id AND cl.currency = x.currency
           LEFT JOIN wallet_withdrawalapproval ap ON ap.withdrawal_id = x.id
           WHERE cl.four_eyes_amount IS NOT NULL AND x.amount >= cl.four_eyes_amount
             AND EXISTS (SELECT 1 FROM wallet_withdrawaltransition h
                         WHERE h.withdrawal_id = x.id AND h.to_state = 'approved' AND h.actor_type = 'operator')
           GROUP BY x.id HAVING COUNT(DISTINCT ap.operator_id) < 2
           UNION ALL
           SELECT 'marked paid by its requester or an approver', x.id::text, h.actor_label
           FROM wallet_withdrawal x JOIN wallet_withdrawaltransition h
             ON h.withdrawal_id = x.id AND h.from_state = 'approved' AND h.to_state = 'paid'
           WHERE h.actor_user_id = x.requested_by_id
              OR EXISTS (SELECT 1 FROM wallet_withdrawalapproval ap
                         WHERE ap.withdrawal_id = x.id AND ap.operator_id = h.actor_user_id)""",
    ),
    Check(
        "payment_limits_respected",
        "per player, currency and local day the counted deposits and withdrawals stay within the tenant's "
        "daily limits, and every amount within the per-transaction bounds",
        """WITH counted AS (
               SELECT 'deposit' AS action, d.tenant_id, d.wallet_id, d.currency,
                      (d.created_at AT TIME ZONE t.time_zone)::date AS day, SUM(d.amount) AS used
               FROM wallet_deposit d JOIN tenants_tenant t ON t.id = d.tenant_id
               WHERE d.state IN ('created', 'pending_provider', 'completed', 'charged_back', 'chargeback_reversed',
                             'charged_back_again')
               GROUP BY 1, 2, 3, 4, 5
               UNION ALL
               SELECT 'withdraw', x.tenant_id, x.wallet_id, x.currency,
                      (x.created_at AT TIME ZONE t.time_zone)::date, SUM(x.amount)
               FROM wallet_withdrawal x JOIN tenants_tenant t ON t.id = x.tenant_id
               WHERE x.state IN ('requested', 'approved', 'payout_pending', 'payout_failed', 'paid')
               GROUP BY 1, 2, 3, 4, 5),
           limits AS (SELECT pp.tenant_id, cl.* FROM tenants_currencylimit cl
                      JOIN tenants_paymentpolicy pp ON pp.id = cl.policy_id)
           SELECT 'daily ' || c.action || ' limit exceeded', c.wallet_id::text,
                  c.day || ': ' || c.used || ' > ' ||
                  CASE WHEN c.action = 'deposit' THEN l.daily_deposit_limit ELSE l.daily_withdraw_limit END
           FROM counted c JOIN limits l ON l.tenant_id = c.tenant_id AND l.currency = c.currency
           WHERE c.used > CASE WHEN c.action = 'deposit' THEN l.daily_deposit_limit ELSE l.daily_withdraw_limit END
           UNION ALL
           SELECT 'amount out of bounds', tx.id::text, tx.amount || ' ' || tx.currency
           FROM (SELECT id, tenant_id, amount, currency FROM wallet_deposit
                 UNION ALL SELECT id, tenant_id, amount, currency FROM wallet_withdrawal) tx
           JOIN limits l ON l.tenant_id = tx.tenant_id AND l.currency = tx.currency
           WHERE tx.amount < l.min_amount OR tx.amount > l.max_amount""",
    ),
    Check(
        "history_consistent",
        "each state history is a chain from the creation to the current state (no transition applied twice)",
        """SELECT 'withdrawal', withdrawal_id::text, from_state || ' after ' || previous FROM (
               SELECT withdrawal_id, from_state,
                      LAG(to_state, 1, '') OVER (PARTITION BY withdrawal_id ORDER BY id) AS previous
               FROM wallet_withdrawaltransition) chain WHERE from_state <> previous
           UNION ALL
           SELECT 'deposit', deposit_id::text, from_state || ' after ' || previous FROM (
               SELECT deposit_id, from_state,
                      LAG(to_state, 1, '') OVER (PARTITION BY deposit_id ORDER BY id) AS previous
               FROM wallet_deposittransition) chain WHERE from_state <> previous
           UNION ALL
           SELECT 'withdrawal', x.id::text, 'state ' || x.state || ', history ends at ' || COALESCE(last.to_state, '-')
           FROM wallet_withdrawal x LEFT JOIN LATERAL (
               SELECT to_state FROM wallet_withdrawaltransition h
               WHERE h.withdrawal_id = x.id ORDER BY h.id DESC LIMIT 1
           ) last ON true WHERE last.to_state IS DISTINCT FROM x.state
           UNION ALL
           SELECT 'deposit', d.id::text, 'state ' || d.state || ', history ends at ' || COALESCE(last.to_state, '-')
           FROM wallet_deposit d LEFT JOIN LATERAL (
               SELECT to_state FROM wallet_deposittransition h WHERE h.deposit_id = d.id ORDER BY h.id DESC LIMIT 1
           ) last ON true WHERE last.to_state IS DISTINCT FROM d.state""",
    ),
    Check(
        "no_deposit_while_excluded",
        "no deposit was created while its player was excluded (a break, a self-exclusion or a block in force)",
        """SELECT 'deposit while excluded', d.id::text, e.kind || ' from ' || e.starts_at || ' to ' ||
                  COALESCE(e.ends_at::text, 'for good')
           FROM wallet_deposit d JOIN players_exclusion e ON e.player_id = d.player_id
           WHERE d.created_at >= e.starts_at AND (e.ends_at IS NULL OR d.created_at < e.ends_at)
             AND (e.lifted_at IS NULL OR d.created_at < e.lifted_at)""",
    ),
    Check(
        "player_deposit_limits_respected",
        "for every deposit, the counted deposits of its wallet in each rolling window ending then stay within "
        "the limit the player had in force at that moment (rebuilt from the limit changes in the audit trail)",
        """WITH counted AS (
               SELECT id, player_id, wallet_id, currency, created_at, amount FROM wallet_deposit
               WHERE state IN ('created', 'pending_provider', 'completed', 'charged_back', 'chargeback_reversed',
                             'charged_back_again')),
           changes AS (
               SELECT target_id::bigint AS player_id, data->>'currency' AS currency, data->>'period' AS period,
                      created_at AS at, data->'after' AS after
               FROM wallet_auditevent WHERE starts_with(action, 'player_limit.') AND data->>'kind' = 'deposit'),
           in_force AS (
               SELECT c.id, c.wallet_id, c.created_at, w.period, w.span,
                      CASE WHEN (l.after->>'pending')::boolean
                                AND c.created_at >= (l.after->>'pending_effective_at')::timestamptz
                           THEN (l.after->>'pending_amount')::bigint ELSE (l.after->>'amount')::bigint END AS lim
               FROM counted c
               CROSS JOIN (VALUES ('day', interval '1 day'), ('week', interval '7 days'),
                                  ('month', interval '30 days')) w(period, span)
               JOIN LATERAL (SELECT ch.after FROM changes ch
                             WHERE ch.player_id = c.player_id AND ch.currency = c.currency
                               AND ch.period = w.period AND ch.at <= c.created_at
                             ORDER BY ch.at DESC LIMIT 1) l ON true)
           SELECT 'player deposit limit exceeded', f.id::text, f.period || ': ' || u.used || ' > ' || f.lim
           FROM in_force f
           JOIN LATERAL (SELECT SUM(d.amount) AS used FROM counted d
                         WHERE d.wallet_id = f.wallet_id AND d.created_at > f.created_at - f.span
                           AND d.created_at <= f.created_at) u ON true
           WHERE f.lim IS NOT NULL AND u.used > f.lim""",
    ),
    Check(
        "withdrawals_need_kyc",
        "no withdrawal was requested by a player whose identity was not verified at that moment, where the "
        "casino requires it (the status then rebuilt from the KYC history)",
        f"""SELECT 'withdrawal by an unverified player', w.id::text, {KYC_AT_REQUEST}
            FROM wallet_withdrawal w JOIN wallet_player p ON p.id = w.player_id
            JOIN tenants_paymentpolicy pp ON pp.tenant_id = w.tenant_id
            WHERE pp.kyc_required_for_withdrawal AND {KYC_AT_REQUEST} <> 'verified'""",
    ),
    Check(
        "closed_loop_kept",
        "every withdrawal named a payout-capable method of its player and, at the moment it was requested "
        "(rebuilt from the ledger: the wallet's entries are ordered by its lock), asked that method for no more "
        "than its net deposits (completed deposits from it, not charged back then, less withdrawals to it paid "
        "or in flight then) plus the winnings (available beyond every payout-capable method's net deposits)",
        f"""WITH req AS (
               SELECT x.id, x.wallet_id, x.player_id, x.payment_method_id AS method, x.amount, x.currency,
                      e.id AS at, p.balance_after + x.amount AS available_before
               FROM wallet_withdrawal x
               JOIN tenants_paymentpolicy pp ON pp.tenant_id = x.tenant_id AND pp.closed_loop
               JOIN wallet_journalentry e ON e.withdrawal_id = x.id AND e.event_type = 'withdraw_requested'
               JOIN wallet_posting p ON p.entry_id = e.id AND p.account = 'player_available'
               WHERE x.payment_method_id IS NOT NULL),
           nets AS (
               SELECT r.id, m.id AS method, m.player_id = r.player_id AS mine, m.payout_capable,
                      {_NET_AT}
               FROM req r JOIN wallet_paymentmethod m ON m.player_id = r.player_id OR m.id = r.method),
           owed AS (SELECT id, SUM(GREATEST(net, 0)) FILTER (WHERE payout_capable AND mine) AS owed
                    FROM nets GROUP BY id)
           SELECT 'closed loop broken', r.id::text,
                  r.amount || ' ' || r.currency || ' to a method with ' || n.net || ' net, '
                  || r.available_before || ' available, ' || COALESCE(o.owed, 0) || ' owed to all methods'
                  || CASE WHEN NOT n.mine THEN ' (another player''s method)'
                          WHEN NOT n.payout_capable THEN ' (cannot receive payouts)' ELSE '' END
           FROM req r JOIN nets n ON n.id = r.id AND n.method = r.method JOIN owed o ON o.id = r.id
           WHERE NOT n.mine OR NOT n.payout_capable
              OR r.amount > GREATEST(n.net, 0) + GREATEST(r.available_before - COALESCE(o.owed, 0), 0)""",
    ),
    Check(
        "auto_approval_kept_its_rule",
        "every withdrawal approved by the system was below its currency's auto-approval amount and the "
        "four-eyes amount, had no risk flag, and its player was verified when it was requested",
        f"""SELECT 'auto-approval broke its rule', w.id::text,
                   w.amount || ' ' || w.currency || ' flags {{' || array_to_string(w.risk_flags, ',') || '}} kyc '
                   || {KYC_AT_REQUEST}
            FROM wallet_withdrawaltransition t JOIN wallet_withdrawal w ON w.id = t.withdrawal_id
            JOIN wallet_player p ON p.id = w.player_id
            JOIN tenants_paymentpolicy pp ON pp.tenant_id = w.tenant_id
            LEFT JOIN tenants_currencylimit cl ON cl.policy_id = pp.id AND cl.currency = w.currency
            WHERE t.to_state = 'approved' AND t.actor_type = 'system' AND t.actor_label = 'auto-approval'
              AND NOT (cl.auto_approve_below IS NOT NULL AND w.amount < cl.auto_approve_below
                       AND cardinality(w.risk_flags) = 0
                       AND (cl.four_eyes_amount IS NULL OR w.amount < cl.four_eyes_amount)
                       AND {KYC_AT_REQUEST} = 'verified')""",
    ),
)

# What the world looks like at the end, for the report (not checks).
CENSUS = {
    "deposits": "SELECT state, COUNT(*) FROM wallet_deposit GROUP BY 1 ORDER BY 1",
    "withdrawals": "SELECT state, COUNT(*) FROM wallet_withdrawal GROUP BY 1 ORDER BY 1",
    "game transactions": (
        "SELECT kind || ' ' || status || CASE WHEN error_code <> '' THEN ' ' || error_code ELSE '' END, COUNT(*) "
        "FROM games_gametransaction GROUP BY 1 ORDER BY 1"
    ),
    "payout attempts": "SELECT status, COUNT(*) FROM payouts_payoutattempt GROUP BY 1 ORDER BY 1",
    "webhook events": "SELECT event_type || ' ' || outcome, COUNT(*) FROM payouts_webhookevent GROUP BY 1 ORDER BY 1",
    "withdrawals paid": (
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM payouts_payoutattempt a WHERE a.withdrawal_id = x.id) "
        "THEN 'through the PSP' ELSE 'marked paid by hand' END, COUNT(*) FROM wallet_withdrawal x "
        "WHERE x.state = 'paid' GROUP BY 1 ORDER BY 1"
    ),
    "payout attempts per withdrawal": (
        "SELECT n || ' attempt(s)', COUNT(*) FROM (SELECT COUNT(*) AS n FROM payouts_payoutattempt "
        "GROUP BY withdrawal_id) per GROUP BY n ORDER BY n"
    ),
    "payout attempts sent to the PSP more than once (same key; after a timeout or an outage)": (
        "SELECT 'sent ' || dispatch_count || ' times', COUNT(*) FROM payouts_payoutattempt "
        "WHERE dispatch_count > 1 GROUP BY dispatch_count ORDER BY dispatch_count"
    ),
    "payouts held at the PSP (allowed open)": f"SELECT 'held', COUNT(*) FROM ({HELD_AT_PSP}) held",
    "PSP webhook deliveries": (
        "SELECT CASE WHEN attempts > 1 THEN 'delivered after retries' ELSE 'delivered at once' END, COUNT(*) "
        "FROM sandbox_psp_sandboxdelivery WHERE delivered_at IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
}


def run_checks() -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """(rows breaking each check, census), read in one snapshot."""
    found: dict[str, list[tuple]] = {}
    census: dict[str, list[tuple]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for check in CHECKS:
            cursor.execute(check.sql)
            found[check.name] = cursor.fetchall()
        for name, sql in CENSUS.items():
            cursor.execute(sql)
            census[name] = cursor.fetchall()
    return found, census


def open_objects() -> list[tuple]:
    """What the drain still has to close (the nothing_left_open check's rows)."""
    sql = next(check.sql for check in CHECKS if check.name == "nothing_left_open")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
