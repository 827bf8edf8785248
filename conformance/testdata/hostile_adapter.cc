// An adapter (conformance/ADAPTERS.md) that does one hostile thing on every
// program, for adapter_hardening_test: the check must finish, write complete
// and well-formed reports, exit as documented and leave no process behind.
//
//   hostile_adapter MODE
//
// MODE, per program (after a normal hello, unless the mode is about the hello):
//   badutf8      a non-JSON line of bytes that are not UTF-8
//   cututf8      a 400-byte non-JSON line of two-byte characters (the check
//                quotes 300 bytes of it)
//   forbidden    an error reply whose message holds characters XML forbids
//                (\u0001, \u001b, U+FFFE, U+FFFF), escaped in the JSON
//   rawcontrol   a non-JSON line of raw control bytes
//   stderrcrash  bytes that are not UTF-8 on stderr, then exit 3
//   unsupported  a well-formed "unsupported" error (n/a), after a short sleep
//   hang         reads the program, never answers
//   noread       never reads its input (a large program fills the pipe)
//   longline     20 MiB without a newline, then silence
//   setsid       starts a child that leaves the process group (setsid) and
//                sleeps, then hangs
//   nohello      never says hello
//   wrongid      answers "unsupported" with an id that is not the program's
//   noid         answers "unsupported" without an id
//   extraline    answers "unsupported", and its first answer twice (every
//                later answer is one program late)
// It speaks protocol 2 (each reply repeats the program's "id").
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

void Out(const std::string& s) {
  std::cout << s << std::flush;
}

[[noreturn]] void SleepForever() {
  while (true) pause();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "nohello") SleepForever();
  if (mode == "noread") {
    Out("{\"hello\": {\"protocol\": 2, \"runtime\": \"hostile\", \"version\": \"1\"}}\n");
    SleepForever();
  }
  Out("{\"hello\": {\"protocol\": 2, \"runtime\": \"hostile\", \"version\": \"1 \\u0001\\ufffe <&>\"}}\n");
  std::string line;
  while (std::getline(std::cin, line)) {
    auto program = nlohmann::json::parse(line, nullptr, false);
    nlohmann::json id = program.is_object() && program.contains("id") ? program["id"] : nlohmann::json();
    auto reply = [&](nlohmann::json j) {
      if (!id.is_null()) j["id"] = id;
      Out(j.dump() + "\n");
    };
    if (mode == "badutf8") {
      Out("not json \xFF\xFE\xC3( \xED\xA0\x80 end\n");
    } else if (mode == "cututf8") {
      std::string s;
      for (int i = 0; i < 200; ++i) s += "\xC3\xA9";  // é
      Out(s + "\n");
    } else if (mode == "forbidden") {
      reply({{"error", "bad \x01 \x1b \xEF\xBF\xBE \xEF\xBF\xBF ]]> <x> end"}, {"kind", "internal"}});
    } else if (mode == "rawcontrol") {
      Out(std::string("raw \x01\x02\x0b\x0c\x1f\0 end\n", 16));
    } else if (mode == "stderrcrash") {
      std::cerr << "Traceback \xFF\xFE\xC3 \x01\x02 \xEF\xBF\xBE\n" << std::flush;
      _exit(3);
    } else if (mode == "unsupported") {
      usleep(20000);
      reply({{"error", "not here"}, {"kind", "unsupported"}});
    } else if (mode == "hang") {
      SleepForever();
    } else if (mode == "longline") {
      std::string mb(1 << 20, 'x');
      for (int i = 0; i < 20; ++i) std::cout << mb;
      std::cout << std::flush;
      SleepForever();
    } else if (mode == "setsid") {
      if (fork() == 0) {
        setsid();
        // Out of the adapter's process group: only a subreaper finds it.
        close(0);
        close(1);
        SleepForever();
      }
      SleepForever();
    } else if (mode == "wrongid") {
      id = "not-" + (id.is_string() ? id.get<std::string>() : id.dump());
      reply({{"error", "not here"}, {"kind", "unsupported"}});
    } else if (mode == "extraline") {
      static bool first = true;
      reply({{"error", "not here"}, {"kind", "unsupported"}});
      if (first) reply({{"error", "not here"}, {"kind", "unsupported"}});
      first = false;
    } else if (mode == "noid") {
      id = nullptr;
      reply({{"error", "not here"}, {"kind", "unsupported"}});
    } else {
      std::cerr << "hostile_adapter: unknown mode '" << mode << "'\n";
      return 2;
    }
  }
  return 0;
}
