# Casino payments back office. `make run` serves the demo; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: install services db migrate seed run test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

services:
	scripts/ensure-services.sh

db: install services
	scripts/ensure-database.sh
	$(BIN)/python manage.py migrate --noinput

seed: db
	$(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$(PORT)

run: seed
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo
	@echo "Serving on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/, Ctrl-C stops)"
	$(BIN)/honcho start -f Procfile -p $(PORT)

test: install services
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install services
	scripts/ensure-database.sh
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
