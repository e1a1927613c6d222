"""Packaging that pyproject.toml cannot say: templates/ and samples/ stay at the top of the
repository, where people browse them, and the wheel carries them inside the package as
`bulk.templates` and `bulk.samples` (read with importlib.resources). Everything else is in
pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(
    # Namespace discovery: a folder of modules needs no __init__.py to ship (bulk/amazon has
    # none), as with pyproject's own package finder.
    packages=[
        *find_namespace_packages(include=["bulk", "bulk.*"], exclude=["*.__pycache__"]),
        "bulk.templates",
        "bulk.samples",
    ],
    package_dir={"bulk.templates": "templates", "bulk.samples": "samples"},
)
