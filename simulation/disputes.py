"""Money coming back after it moved (ARCHITECTURE 16), played as the PSP's side would.

- `chargeback`: the card holder disputes one of the player's paid deposits (the client's
  paid-deposit number from the schedule): the simulation asks the sandbox PSP, with the
  tenant's merchant API key, to charge it back (`POST v1/payments/<id>/chargeback`); the
  PSP's signed `payment.charged_back` webhook does the rest. Deposits already spent or
  withdrawn leave the player owing the casino (a receivable), which restricts the account
  until deposits, released withdrawals or a reversal repay it.
- `reverse_chargeback`: some disputes are won by the casino a few steps later
  (`.../chargeback-reversal`, webhook `payment.chargeback_reversed`).
- `second_chargeback`: the card holder's bank disputes some of those again after the reversal
  (`.../second-chargeback`, webhook `payment.second_chargeback`): the money goes out again, for good.
- `return_payout`: the bank sends a paid payout back (`POST v1/payouts/<key>/return`, key =
  the payout attempt's id, read from the operator API's snapshot; webhook `payout.returned`).
  A withdrawal not (yet) paid through the PSP has nothing to return: counted as skipped.

Each request is retried on 5xx and network errors like any other (the PSP may be steered to be
unavailable or frozen by the chaos); asking twice for the same step changes nothing at the PSP.
"""

from . import spec

STEP_PATHS = {
    "chargeback": "chargeback",
    "reverse_chargeback": "chargeback-reversal",
    "second_chargeback": "second-chargeback",
}


class DisputePlay:
    """Mixed into the simulation's Client: the chargeback, reverse_chargeback, second_chargeback and
    return_payout operations."""

    def _psp_post(self, op, path: str, reason: str):
        tenant = spec.tenant_of_player(op.player)
        headers = {"Authorization": f"Bearer {self.world.psp_keys[tenant]}"}
        url = f"{self.world.psp_url.rstrip('/')}{path}"
        return self.post_json_with(url, {"reason": reason}, headers=headers)

    def _dispute(self, op, step: str) -> str:
        found = self.paid_deposits.get(op.deposit)
        if found is None:
            return "no such paid deposit (skipped)"
        _deposit_id, payment_id = found
        answer = self._psp_post(op, f"/v1/payments/{payment_id}/{STEP_PATHS[step]}", f"Simulation {step}")
        return self._classify(step, answer, op)

    def _chargeback(self, op) -> str:
        return self._dispute(op, "chargeback")

    def _reverse_chargeback(self, op) -> str:
        return self._dispute(op, "reverse_chargeback")

    def _second_chargeback(self, op) -> str:
        return self._dispute(op, "second_chargeback")

    def _return_payout(self, op) -> str:
        found = self.withdrawals.get(op.ref)
        if found is None:
            return "no such withdrawal (skipped)"
        withdrawal_id, player = found
        url = f"{self.world.web_url}/api/v1/admin/transactions/{withdrawal_id}/snapshot/"
        snapshot = self.send("GET", url, token=self.world.operator_token(player, 0))
        if snapshot is None or snapshot.status != 200:
            return self._classify("snapshot", snapshot, op)
        succeeded = [a["id"] for a in snapshot.json().get("payout_attempts", []) if a["status"] == "succeeded"]
        if not succeeded:
            return "not paid through the PSP (skipped)"
        answer = self._psp_post(op, f"/v1/payouts/{succeeded[0]}/return", "Simulation: account closed")
        return self._classify(op.kind, answer, op)
