# lit configuration of lathe's FileCheck suite. Tools come from the build
# (lathe_tools_dir) and from LLVM (llvm_tools_dir: FileCheck, not, count).
#
# Run from the build tree (`lit BUILD/tests/lit`), or on a source file with
# `--param lathe_site_config=BUILD/tests/lit/lit.site.cfg.py`, as ctest does.
import os
import lit.formats

site_config = lit_config.params.get("lathe_site_config")
if not hasattr(config, "lathe_obj_root") and site_config:
    # The site config sets the build paths and loads this file again.
    lit_config.load_config(config, site_config)
elif not hasattr(config, "lathe_obj_root"):
    lit_config.fatal("run lit on the build tree, or pass --param lathe_site_config=...")
else:
    config.name = "lathe"
    config.test_format = lit.formats.ShTest(execute_external=False)
    config.suffixes = [".mlir", ".test"]
    config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
    config.test_source_root = os.path.dirname(os.path.abspath(__file__))
    config.test_exec_root = os.path.join(config.lathe_obj_root, "tests", "lit")

    path = [config.lathe_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
    config.environment["PATH"] = os.pathsep.join(path)
    config.environment["PYTHONDONTWRITEBYTECODE"] = "1"
    config.substitutions.append(("%python", config.python_executable))
    config.substitutions.append(("%lathe_src", config.lathe_src_root))
    # The tiny checkpoint generator and corruptor of tests/models/.
    models = os.path.join(config.lathe_src_root, "tests", "models")
    config.substitutions.append(
        ("%make_checkpoint", '"%s" "%s"' % (config.python_executable,
                                             os.path.join(models, "make_tiny_checkpoint.py"))))
    config.substitutions.append(
        ("%edit_config", '"%s" "%s"' % (config.python_executable,
                                         os.path.join(models, "edit_config.py"))))
    config.substitutions.append(
        ("%corrupt_checkpoint", '"%s" "%s"' % (config.python_executable,
                                                os.path.join(models, "corrupt_checkpoint.py"))))
