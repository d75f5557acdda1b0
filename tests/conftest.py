from __future__ import annotations

import logging

import pytest

import hpo_core

hpo_core.logging.set_verbosity(logging.WARNING)


@pytest.fixture(params=[0, 1, 2])
def seed(request: pytest.FixtureRequest) -> int:
    return int(request.param)
