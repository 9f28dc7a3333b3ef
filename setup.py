"""Map the top-level folders core/, tui/ and sandbox/ into one `zbsn` import namespace.

Nothing named `core` or `tui` lands at the top of site-packages: the wheel holds zbsn/core, zbsn/tui and
zbsn/sandbox, and an editable install maps the same names onto this checkout.
"""

from setuptools import find_packages, setup

ROOTS = ("core", "tui", "sandbox")

setup(
    packages=[f"zbsn.{name}" for name in find_packages(include=[f"{root}*" for root in ROOTS])],
    package_dir={f"zbsn.{root}": root for root in ROOTS},
    package_data={
        "zbsn.core": ["py.typed"],
        "zbsn.core.db": ["alembic.ini"],
        "zbsn.core.db.migrations": ["script.py.mako"],
        "zbsn.tui": ["*.tcss", "screens/*.tcss"],
    },
    include_package_data=True,
)
