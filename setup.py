"""Packages by discovery. Everything else is in pyproject.toml.

setuptools' `packages.find` cannot map a directory to a package of another name, and the
templates live at the top level (`templates/`) while the code loads them as
`scaffold.templates`. So the packages are found here: every package under `scaffold/`, whatever
is added later, plus that one mapping."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["scaffold", "scaffold.*"]), "scaffold.templates"],
    package_dir={"scaffold.templates": "templates"},
)
