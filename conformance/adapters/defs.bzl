"""The shape every Python adapter package has (conformance/ADAPTERS.md).

An adapter directory holds adapter.json (its manifest) and whatever the
manifest's command runs; the check finds the files through the filegroup
`adapter`, and `adapter_test.py` runs the adapter through its manifest
command with //conformance/adapters:testlib, as the check does.
"""

def python_adapter(srcs, test_args = []):
    """Declares `:adapter` (adapter.json + srcs) and `:adapter_test`.

    Args:
      srcs: the files the manifest's command needs besides adapter.json
        (scripts of this package, or labels of shared ones such as
        //conformance/adapters/cpython:driver.py).
      test_args: arguments of adapter_test.py in `:adapter_test` (unittest
        class names, to leave out tests run by another target).
    """
    native.filegroup(
        name = "adapter",
        srcs = ["adapter.json"] + srcs,
        # The check's data (//conformance:check_data).
        visibility = ["//conformance:__pkg__"],
    )
    native.py_test(
        name = "adapter_test",
        size = "small",
        srcs = ["adapter_test.py"],
        args = test_args,
        data = [":adapter"],
        python_version = "PY3",
        srcs_version = "PY3",
        deps = [
            "//conformance/adapters:testlib",
            "//tools/testing:require_py",
        ],
    )
