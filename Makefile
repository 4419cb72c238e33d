# Birbal AI — the commands of README.md. Services come from scripts/services.sh (installed when missing).
SHELL := /bin/bash
.DEFAULT_GOAL := help
DOTNET ?= dotnet
CONFIGURATION ?= Release
APP_DIR := BirbalAI.Web/bin/$(CONFIGURATION)/net10.0
APP_DLL := $(APP_DIR)/BirbalAI.Web.dll
# appsettings.json sits next to the dll; the content root says so whatever the current folder.
APP := $(DOTNET) $(APP_DLL) --contentRoot=$(CURDIR)/$(APP_DIR)
RUN_DIR := .local/run
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: help prepare-run run start stop build test bench clean

help:
	@echo "make run    start the services, build, migrate and run Birbal AI on http://127.0.0.1:5080 (Ctrl-C stops the app)"
	@echo "make start  the same, in the background (log: $(RUN_DIR)/app.log)"
	@echo "make test   start the test services, build and run every test project; last line: total: N passed, N failed, N skipped"
	@echo "make bench  run the benchmarks (bench/README.md)"
	@echo "make stop   stop the app and both service sets"

build:
	$(DOTNET) build BirbalAI.sln -c $(CONFIGURATION) -nologo -clp:ErrorsOnly

# Everything `make run` and `make start` share: services, secrets, build, migrations.
prepare-run:
	scripts/services.sh start run
	scripts/dev-secrets.sh $(RUN_DIR)/secrets
	$(DOTNET) build BirbalAI.Web/BirbalAI.Web.csproj -c $(CONFIGURATION) -nologo -clp:ErrorsOnly
	set -a; source <(scripts/services.sh env run); set +a; \
	  ASPNETCORE_ENVIRONMENT=Development SecretsDirectory=$(CURDIR)/$(RUN_DIR)/secrets $(APP) migrate
	@# The starter model: trained once per generator/settings change, cached under .local/models.
	set -o pipefail; $(APP) ml starter-model --cache $(CURDIR)/.local/models | tail -n 1 > $(RUN_DIR)/starter-model

run: prepare-run
	set -a; source <(scripts/services.sh env run); set +a; \
	  export ASPNETCORE_ENVIRONMENT=Development SecretsDirectory=$(CURDIR)/$(RUN_DIR)/secrets Ml__StarterModelDirectory=$$(cat $(RUN_DIR)/starter-model); \
	  echo $$$$ > $(RUN_DIR)/app.pid; exec $(APP) --role all

start: prepare-run
	scripts/app.sh start $(APP_DLL) $(RUN_DIR)

stop:
	scripts/app.sh stop $(APP_DLL) $(RUN_DIR)
	scripts/services.sh stop run
	scripts/services.sh stop test

test:
	scripts/services.sh start test
	scripts/test.sh

bench:
	bench/run.sh

clean:
	$(DOTNET) clean BirbalAI.sln -nologo -v q
	rm -rf .local/test
