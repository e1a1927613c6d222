"""Packaging that pyproject.toml cannot say: templates/ and samples/ stay at the top of the
repository, where people browse them, and the wheel carries them inside the package as
`bulk.templates` and `bulk.samples` (read with importlib.resources). Everything else is in
pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bulk", "bulk.*"]), "bulk.templates", "bulk.samples"],
    package_dir={"bulk.templates": "templates", "bulk.samples": "samples"},
)
