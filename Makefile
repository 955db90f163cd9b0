# The two commands of a fresh machine: `make train` and `make test`. Each target creates the
# virtualenv when it is missing; VENV=<dir> puts it elsewhere (CI keeps one keyed on the pins).
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# One stamp per checkout: a shared VENV is re-pointed (pip install -e) at the checkout using it.
STAMP = $(VENV)/.installed-$(shell printf '%s' '$(CURDIR) $(EXTRAS)' | cksum | cut -d' ' -f1)
ARGS ?=
# Optional extras installed with the package: dev (pytest, ruff) and the Hydra launcher/sweeper
# plugins (joblib, slurm, ray, optuna; `launchers` = all four), e.g. make install EXTRAS=dev,joblib
EXTRAS ?= dev,launchers

.PHONY: install train sweep test test-fast lint format tensorboard bench gpu-check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $(STAMP)

train: $(STAMP)  ## train the default config (digits, MLP, ReLU, Kaiming); ARGS='activation=tanh ...'
	$(BIN)/ablation-train $(ARGS)

sweep: $(STAMP)  ## a small ready-made ablation on the embedded digits, with a summary table
	$(BIN)/ablation-train -m experiment=quick_ablation $(ARGS)

test: $(STAMP)  ## the whole suite, slow end-to-end tests included
	$(BIN)/python -m pytest -q --durations=30 $(ARGS)

test-fast: $(STAMP)  ## unit and smoke tests only
	$(BIN)/python -m pytest -q -m "not slow" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

format: $(STAMP)
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/ruff format src tests scripts

# TensorBoard answers on this machine only; TB_HOST=0.0.0.0 serves the network (no authentication).
TB_HOST ?= 127.0.0.1
tensorboard: $(STAMP)  ## serve every run and sweep under logs/ on http://127.0.0.1:6006
	$(BIN)/tensorboard --logdir logs --host $(TB_HOST) $(ARGS)

bench: $(STAMP)  ## images/s of a plain PyTorch loop vs ablation-lab's Trainer, and their ratio
	$(BIN)/python scripts/bench.py $(ARGS)

gpu-check: $(STAMP)  ## on a CUDA machine: gpu tests, speed table (precision, channels_last, compile), DDP, packing
	$(PY) scripts/gpu_check.py

clean:  ## remove caches and this checkout's own .venv (never logs/, never a VENV outside the checkout)
	@case "$$(realpath -m '$(VENV)')/" in "$(CURDIR)/"?*) rm -rf '$(VENV)' ;; \
	  *) echo "make clean: keeping VENV=$(VENV) (outside this checkout; remove it yourself)" ;; esac
	rm -rf .ruff_cache .pytest_cache src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
