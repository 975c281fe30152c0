# The two commands: `make demo` and `make test`. Each works on a fresh machine with only Python:
# it creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest workers: one more than the cores (many tests wait on browsers, subprocesses and sockets),
# at least 3 and at most 6 (each worker holds its own PostgreSQL database and Chromium).
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(max(3, min(6, (os.cpu_count() or 2) + 1)))")

.PHONY: demo test lint typecheck check bench browser gstreamer deploy-tools pgclient clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Headless Chromium and CJK fonts for the page tests and the monthly report's charts and PDF, and
# poppler-utils (pdftotext, pdftoppm) to read that PDF in its tests (Debian packages; needs root or sudo).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto.*CJK" || [ ! -x /usr/bin/pdftotext ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; \
	fi

# The tests' real RTSP camera (tests/rtsp_camera.py): GStreamer's RTSP server and its Python bindings,
# run by Debian's python3, and an H.264 encoder (x264enc) with the RTP payloader. Debian packages, as
# above; skipped when the camera's own check finds everything.
GSTREAMER_PACKAGES := gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
gstreamer:
	@if ! /usr/bin/python3 tests/rtsp_camera_server.py --check >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(GSTREAMER_PACKAGES) >/dev/null; \
	fi

# nginx and coturn for the production set-up's tests (tests/deploy/: nginx's own config test and the TLS
# proxy in front of two instances, coturn relaying a live view on loopback). Debian packages, as above;
# the tests run them in temporary directories on free ports, never as the system's services.
deploy-tools:
	@if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/bin/turnserver ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends nginx coturn >/dev/null; \
	fi

# PostgreSQL's client tools (pg_dump, pg_restore) for `hallwatch backup` and the restore drill's tests;
# Debian's postgresql-client matches Debian's server (a pg_dump older than the server refuses it).
pgclient:
	@if ! command -v pg_dump >/dev/null 2>&1 || ! command -v pg_restore >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql-client >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/hallwatch demo --host $(HOST) --port $(PORT)

test: $(STAMP) browser gstreamer deploy-tools pgclient
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy common central edge rating_device hall_display bench deploy
	$(BIN)/lint-imports
	$(BIN)/pytest -q --numprocesses=$(TEST_WORKERS)

bench: $(STAMP) deploy-tools
	$(BIN)/python -m bench.lights
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.signals
	$(BIN)/python -m bench.scores
	$(BIN)/python -m bench.keypads
	$(BIN)/python -m bench.presence
	$(BIN)/python -m bench.link
	$(BIN)/python -m bench.patrols
	$(BIN)/python -m bench.displays
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.supervision
	$(BIN)/python -m bench.soak --minutes 3

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
