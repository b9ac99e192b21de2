# Kith — the README's commands.  `make run` and `make test` are all a new user needs.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.kith-installed
PORT   ?= 8000
export PORT

.PHONY: run test lint fmt typecheck check pytest bench bench-deps browser-deps install clean-venv

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kith migrate --noinput
	$(BIN)/kith firststart
	$(BIN)/kith serve --port $(PORT)

# Chromium for the browser tests comes from Debian (Playwright cannot download browsers here), and so does
# a Chinese font for the quote PDFs (fonts-wqy-microhei; without it Chinese names are left out of PDFs).
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium and a Chinese font for the browser and PDF tests ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
			|| echo "chromium or the font could not be installed: browser tests will skip"; \
	else echo "No chromium or Chinese font and no root to install them: browser tests will skip"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy kith config

check: $(STAMP)
	$(BIN)/python -m kith check --fail-level WARNING
	$(BIN)/python -m kith makemigrations --check --dry-run

pytest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test: $(STAMP) browser-deps lint typecheck check pytest

# wrk (Debian) makes the throughput load without taking the server's cores; without it Python clients do.
bench-deps:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's wrk for the throughput run ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
			|| echo "wrk could not be installed: Python clients make the throughput load"; \
	else echo "No wrk and no root to install it: Python clients make the throughput load"; fi

bench: $(STAMP) bench-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
