"""
Builds libslotlink (C11, libc only) into the package as slotlink/_libslotlink*.so, which
slotlink loads with ctypes: no Python C API is used, so one build serves any Python 3.

The C sources are found next to this directory (../c, in the slotlink repository) or, in
an sdist, in csrc/. Offline install: pip install --no-build-isolation ./clients/python
"""
import glob
import os
import shutil

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))


def c_sources_dir() -> str:
    for candidate in (os.path.join(HERE, "..", "c"), os.path.join(HERE, "csrc")):
        if os.path.isfile(os.path.join(candidate, "slotlink.h")):
            return os.path.normpath(candidate)
    raise SystemExit("slotlink: the C sources of libslotlink were not found (expected ../c or csrc/ beside setup.py)")


class BuildLibrary(build_ext):
    """Compiles the C sources from a copy in the build tree, so objects stay under build/."""

    def run(self) -> None:
        src = c_sources_dir()
        copy = os.path.join(os.path.abspath(self.build_temp), "csrc")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(src, copy, ignore=shutil.ignore_patterns("build", "*.so", "*.a", "*.o"))
        for ext in self.extensions:
            ext.sources = sorted(glob.glob(os.path.join(copy, "src", "*.c")))
        super().run()

    def get_export_symbols(self, ext):  # a plain C library: no PyInit_ symbol to export
        return []


class SdistWithSources(sdist):
    """An sdist carries the C sources in csrc/, so it builds away from the repository too."""

    def make_release_tree(self, base_dir, files) -> None:
        super().make_release_tree(base_dir, files)
        src = c_sources_dir()
        shutil.copytree(src, os.path.join(base_dir, "csrc"), ignore=shutil.ignore_patterns("build", "*.so", "*.a", "*.o"), dirs_exist_ok=True)


setup(
    ext_modules=[
        Extension(
            "slotlink._libslotlink",
            sources=["c-sources-are-set-by-build_ext.c"],
            extra_compile_args=["-std=c11", "-D_GNU_SOURCE", "-fvisibility=hidden", "-Wall", "-Wextra", "-O2"],
            extra_link_args=["-pthread"],
        )
    ],
    cmdclass={"build_ext": BuildLibrary, "sdist": SdistWithSources},
)
