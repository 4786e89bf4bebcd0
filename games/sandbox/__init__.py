"""The sandbox game: a small slot machine that plays the game provider's part.

It is an outside party, like the sandbox PSP but more strictly: a separate process
(`python -m games.sandbox`, the `game:` line of the Procfile) that imports nothing of the
product and not Django, keeps its own records in a SQLite file under `var/sandbox_game/`,
and reaches the casino only through the signed game wallet API
(`POST /api/v1/games/<provider>/{balance,bet,win,rollback}/`, ARCHITECTURE section 15).
See docs/sandbox-game.md.

Modules: `money` (decimal strings), `rng` (the seeded reels), `signing` (Standard Webhooks
headers), `providers` (which casino accounts the game plays for, and their secrets),
`client` (one wallet call with its retries), `store` (the game's own records),
`play` (a spin: bet, outcome, win; rollbacks and resending), `report` (the daily CSV),
`web` (the WSGI app: launch page, spin, report) and `server` (the process).
"""
