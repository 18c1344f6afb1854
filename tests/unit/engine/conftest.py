from __future__ import annotations

import pytest

from tests.support import images


@pytest.fixture(scope="session")
def astronaut() -> bytes:
    return images.astronaut_jpeg()


@pytest.fixture(scope="session")
def grace_hopper() -> bytes:
    return images.grace_hopper_jpeg()


@pytest.fixture(scope="session")
def no_face() -> bytes:
    return images.coffee_jpeg()
