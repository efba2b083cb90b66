"""Makes the wheel a platform wheel: it carries libacnet.so (x86-64 or aarch64 Linux code) but no
compiled Python code, so its tag is py3-none-<platform> (one wheel for every CPython 3).
build_wheel.sh sets ACNET_WHEEL_PLAT to the platform tag (e.g. manylinux_2_34_x86_64)."""

import os

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self):  # installs into platlib; no extension to build
        return True


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        plat = os.environ.get("ACNET_WHEEL_PLAT")
        if plat:
            self.plat_name = plat
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
