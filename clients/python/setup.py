"""
Builds libslotlink (C11, libc only) into the package as slotlink/_libslotlink*.so, which
slotlink loads with ctypes: no Python C API is used, so one build serves any Python 3.

The C sources are found next to this directory (../c, in the slotlink repository) or, in
an sdist, in csrc/. Offline install: pip install --no-build-isolation ./clients/python
"""
import base64
import glob
import hashlib
import os
import shutil
import sysconfig
import zipfile

from setuptools import Command, Extension, setup
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


class MinimalWheel(Command):
    """
    bdist_wheel for Pythons whose fresh venv has setuptools but not the `wheel` package
    (3.11's ensurepip, Debian's python3-venv), with no package index to fetch it from.
    Writes build/lib + .dist-info into a wheel tagged py3-none-<platform>: the library is
    plain C loaded by ctypes, so any Python 3 on this platform can use it.
    """

    description = "build a wheel (used only when the wheel package is not installed)"
    user_options = [("dist-dir=", "d", "directory to put the wheel in"), ("bdist-dir=", "b", "ignored")]

    def initialize_options(self) -> None:
        self.dist_dir = None
        self.bdist_dir = None

    def finalize_options(self) -> None:
        self.dist_dir = self.dist_dir or "dist"

    @staticmethod
    def egg2dist(egginfo_path: str, distinfo_path: str) -> None:
        """Turns setuptools' .egg-info into a .dist-info (what dist_info asks of bdist_wheel)."""
        os.makedirs(distinfo_path, exist_ok=True)
        shutil.copyfile(os.path.join(egginfo_path, "PKG-INFO"), os.path.join(distinfo_path, "METADATA"))
        top = os.path.join(egginfo_path, "top_level.txt")
        if os.path.exists(top):
            shutil.copyfile(top, os.path.join(distinfo_path, "top_level.txt"))

    def run(self) -> None:
        self.run_command("build")
        build_lib = self.get_finalized_command("build").build_platlib
        egg_info = self.get_finalized_command("egg_info")
        self.run_command("egg_info")
        name, version = self.distribution.get_name(), self.distribution.get_version()
        tag = "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")
        dist_info = f"{name}-{version}.dist-info"
        staging = os.path.join(build_lib, dist_info)
        self.egg2dist(egg_info.egg_info, staging)
        with open(os.path.join(staging, "WHEEL"), "w") as f:
            f.write(f"Wheel-Version: 1.0\nGenerator: slotlink setup.py\nRoot-Is-Purelib: false\nTag: {tag}\n")
        os.makedirs(self.dist_dir, exist_ok=True)
        wheel_path = os.path.join(self.dist_dir, f"{name}-{version}-{tag}.whl")
        records = []
        with zipfile.ZipFile(wheel_path, "w", zipfile.ZIP_DEFLATED) as zf:
            for root, _, files in os.walk(build_lib):
                for fname in sorted(files):
                    path = os.path.join(root, fname)
                    arc = os.path.relpath(path, build_lib)
                    with open(path, "rb") as fh:
                        data = fh.read()
                    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                    records.append(f"{arc},sha256={digest},{len(data)}")
                    zf.writestr(arc, data)
            records.append(f"{dist_info}/RECORD,,")
            zf.writestr(f"{dist_info}/RECORD", "\n".join(records) + "\n")
        shutil.rmtree(staging)


try:
    import wheel  # noqa: F401  (its bdist_wheel is used when present)

    WHEEL_COMMAND = {}
except ImportError:
    WHEEL_COMMAND = {"bdist_wheel": MinimalWheel}


setup(
    ext_modules=[
        Extension(
            "slotlink._libslotlink",
            sources=["c-sources-are-set-by-build_ext.c"],
            extra_compile_args=["-std=c11", "-D_GNU_SOURCE", "-fvisibility=hidden", "-Wall", "-Wextra", "-O2"],
            extra_link_args=["-pthread"],
        )
    ],
    cmdclass={"build_ext": BuildLibrary, "sdist": SdistWithSources, **WHEEL_COMMAND},
)
