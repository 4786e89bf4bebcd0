# Casino payments back office. `make run` serves the demo; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
SANDBOX_PSP_PORT ?= 8001
SANDBOX_GAME_PORT ?= 8002
# The demo runs over plain HTTP without authenticator apps; production keeps both on.
OPERATOR_2FA_REQUIRED ?= 0
export SANDBOX_PSP_URL ?= http://127.0.0.1:$(SANDBOX_PSP_PORT)
# Where the sandbox game answers: seed_demo puts it into each demo casino's game launch URL.
export SANDBOX_GAME_URL ?= http://127.0.0.1:$(SANDBOX_GAME_PORT)
# Runs a command with var/local.env in its environment: the machine's DJANGO_SECRET_KEY, a
# random one written the first time (the product refuses to start without a key).
LOCAL_ENV := scripts/local-env.sh

.PHONY: install services chromium db migrate seed run test lint bench bench-servers bench-profile bench-reconciliation clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

services:
	scripts/ensure-services.sh

# The browser tests drive Debian's chromium; installed here if the machine lacks it.
chromium:
	scripts/ensure-chromium.sh

db: install services
	scripts/ensure-database.sh
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --noinput

seed: db
	$(LOCAL_ENV) $(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$(PORT)

run: seed
	$(LOCAL_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	@echo
	@echo "Console:    http://127.0.0.1:$(PORT)/console/  (operators; two-factor sign-in is off for the demo)"
	@echo "Player:     http://127.0.0.1:$(PORT)/play/  (e.g. aurora-alice / $${DEMO_PASSWORD:-demo-pass-2026})"
	@echo "Web:        http://127.0.0.1:$(PORT)/   (platform admin /admin/, API docs /api/docs/)"
	@echo "Sandbox PSP: http://127.0.0.1:$(SANDBOX_PSP_PORT)/  (hosted checkout; webhooks to /api/v1/webhooks/psp/sandbox/)"
	@echo "Sandbox game: http://127.0.0.1:$(SANDBOX_GAME_PORT)/  (a slot machine; opened from the player page, daily report /reports/daily.csv)"
	@echo "Processes:  web (granian, scripts/web.sh); Celery workers payouts, reconciliation and background (webhooks, games, housekeeping) and beat; psp (sandbox PSP); game (sandbox game). Ctrl-C stops them all."
	PORT=$(PORT) WEB_PORT=$(PORT) SANDBOX_PSP_PORT=$(SANDBOX_PSP_PORT) SANDBOX_PSP_URL=http://127.0.0.1:$(SANDBOX_PSP_PORT) \
		SANDBOX_GAME_PORT=$(SANDBOX_GAME_PORT) SANDBOX_GAME_URL=http://127.0.0.1:$(SANDBOX_GAME_PORT) \
		OPERATOR_2FA_REQUIRED=$(OPERATOR_2FA_REQUIRED) DJANGO_SECURE_COOKIES=0 \
		$(LOCAL_ENV) $(BIN)/honcho start -f Procfile

test: install services chromium
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The HTTP load comes from Debian's wrk, installed here if missing (else a Python client, and the table says so).
bench: install services
	scripts/ensure-database.sh
	-scripts/ensure-wrk.sh
	-$(LOCAL_ENV) $(BIN)/python -m bench.game_bets
	$(LOCAL_ENV) $(BIN)/python -m bench.run

# The same POST withdrawals/ load against gunicorn sync, gunicorn gthread and granian (docs/benchmarks-profile.md).
bench-servers: install services
	-scripts/ensure-wrk.sh
	$(LOCAL_ENV) $(BIN)/python -m bench.http_servers

# Where the time of one POST withdrawals/ goes, stage by stage (bench/profile_request.py; after `make bench`).
bench-profile: install services
	$(LOCAL_ENV) $(BIN)/python -m bench.profile_request

# Reconciliation over a history of 1,000,000 transactions loaded by COPY, then 100,000 new ones: the
# incremental run over the new ones and a full run, beside a plain scan (own database, bench/reconciliation.py).
# SIZE=10000000 also measures that history in the same run, with the ratios and goals between the two;
# output in docs/benchmarks-reconciliation.md.
comma := ,
bench-reconciliation: install services
	RECON_BENCH_SIZES=$(if $(filter-out 1000000,$(SIZE)),1000000$(comma)$(SIZE),$${RECON_BENCH_SIZES:-1000000}) \
		$(LOCAL_ENV) $(BIN)/python -m bench.reconciliation

# The end-to-end simulation (docs/simulation.md): SEED=<n> replays a run; OPERATIONS, CLIENTS.
.PHONY: sim
sim: install services
	$(LOCAL_ENV) $(BIN)/python -m simulation --operations $(or $(OPERATIONS),10000) --clients $(or $(CLIENTS),16) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
