"""A fuzzer binary in which only the code under test is instrumented.

Why. differential_fuzz compares two things, the model (spec/model) and the
reference runtime (runtime/); everything else in it is harness, and its
coverage only cost time:
  - the mutator writes every mutant as JSON (spec/json.cc) and validates it
    (spec/validate.cc). libFuzzer resets the counters before each run, and
    inside a run the input comes from the mutator's cache, so those files
    never gave a feature; but their compare callbacks (trace-cmp) and
    counters were paid on every mutation (~84k instructions an execution).
  - the interpreter that drives the runtime (conformance/reference) and the
    checker (conformance/compare.cc: Compare, CheckInvariants) run in every
    execution, and held half of the binary's counters (7,700 and 6,700 of
    29,000), which libFuzzer scans and turns into features after every run.
    Their branches follow the program's shape and its outcome, which the
    model's and the runtime's own coverage see already. Measured
    (fuzz/README.md): without their coverage an execution costs 19% fewer
    instructions, and a corpus grown in the same number of executions
    covers the model and the runtime as well (cov 3,563 vs 3,545, ft 13,611
    vs 13,527) and the harness nearly as well (7,074 vs 7,097 edges).

The JSON reader and the validator are the code under test of the reader
targets (program_json_fuzz, outcome_json_fuzz), which need their coverage
and trace-cmp. A global `--per_file_copt` cannot tell the two apart, so
`fuzz_binary` builds its binary in a configuration of its own, with
`//fuzz:harness_uninstrumented` set: the harness libraries select
`-fno-sanitize=fuzzer-no-link` on it (`HARNESS_COPTS`). Outside the fuzz
configs the flag changes nothing.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")

def _bool_setting_impl(ctx):
    return []

bool_setting = rule(
    implementation = _bool_setting_impl,
    build_setting = config.bool(flag = True),
)

def _harness_uninstrumented_impl(settings, attr):
    # Outside the fuzz configs (no coverage instrumentation) the flag would
    # change nothing but the output directory, and `bazel test //...` would
    # build the binary's whole dependency tree a second time: leave the
    # configuration as it is. (Bazel 4.2 cannot read --define in a
    # transition, so the test is on the copt that the fuzz configs add.)
    if "-fsanitize=fuzzer-no-link" not in settings["//command_line_option:copt"]:
        return {"//fuzz:harness_uninstrumented": settings["//fuzz:harness_uninstrumented"]}
    return {"//fuzz:harness_uninstrumented": True}

_harness_uninstrumented = transition(
    implementation = _harness_uninstrumented_impl,
    inputs = ["//command_line_option:copt", "//fuzz:harness_uninstrumented"],
    outputs = ["//fuzz:harness_uninstrumented"],
)

def _fuzz_binary_impl(ctx):
    binary = ctx.attr.binary[0]
    executable = binary[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = executable, is_executable = True)
    return [DefaultInfo(
        executable = out,
        files = depset([out]),
        runfiles = ctx.runfiles(files = [executable]).merge(binary[DefaultInfo].default_runfiles),
    )]

_fuzz_binary = rule(
    implementation = _fuzz_binary_impl,
    attrs = {
        "binary": attr.label(cfg = _harness_uninstrumented, executable = True, mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    executable = True,
)

def fuzz_binary(name, **kwargs):
    """cc_binary `name`, with the harness libraries built uninstrumented.

    The cc_binary itself is `name + "_cc"` (in the normal configuration: its
    harness libraries instrumented like the rest); `name` is the one to run.
    """
    cc_binary(name = name + "_cc", **kwargs)
    _fuzz_binary(name = name, binary = ":" + name + "_cc")

# copts of a library that is harness in the differential target (and maybe
# code under test of another target): no coverage in fuzz_binary's
# configuration.
HARNESS_COPTS = select({
    "//fuzz:harness_uninstrumented_in_fuzz_build": ["-fno-sanitize=fuzzer-no-link"],
    "//conditions:default": [],
})

def _case_corpus_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run(
        executable = ctx.executable._make_corpus,
        arguments = [ctx.files.cases[0].dirname, out.path],
        inputs = ctx.files.cases,
        outputs = [out],
        mnemonic = "MakeCorpus",
        progress_message = "Writing the fuzz seed corpora of the golden cases",
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

case_corpus = rule(
    implementation = _case_corpus_impl,
    doc = """The seed corpora the golden cases give (make_corpus.cc): a directory
    with program_json/, program_text/, outcome_json/ and differential/.""",
    attrs = {
        "cases": attr.label_list(allow_files = [".json"], doc = "the golden case files (one directory)"),
        "_make_corpus": attr.label(default = "//fuzz:make_corpus", executable = True, cfg = "host"),
    },
)
