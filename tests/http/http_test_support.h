// Copyright memlog authors.
//
// Helpers for the //http tests: a server on a free loopback port, and curl
// (Debian's, as a subprocess) as the client.

#ifndef MEMLOG_TESTS_HTTP_HTTP_TEST_SUPPORT_H_
#define MEMLOG_TESTS_HTTP_HTTP_TEST_SUPPORT_H_

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" char** environ;

namespace memlog::http::test {

// Quotes `arg` for /bin/sh.
inline std::string ShellQuote(std::string_view arg) {
  std::string out = "'";
  for (const char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

// What curl printed with -i: the status, the header block and the body.
struct Response {
  int status = 0;
  std::string headers;
  std::string body;
};

// Starts curl with `args` (after `-s -i --max-time 20`); read its output
// with ReadAll() or line by line with ReadLine().
class Curl {
 public:
  explicit Curl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"curl", "-s", "-i", "--max-time", "20"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& arg : argv) cargv.push_back(arg.data());
    cargv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (posix_spawnp(&pid_, "curl", &actions, nullptr, cargv.data(),
                     environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    pipe_ = fdopen(fds[0], "r");
  }
  // Stops curl if it still runs.
  ~Curl() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    Reap();
  }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;

  // Reads one line (without its end); false at the end of the output.
  bool ReadLine(std::string* line) {
    line->clear();
    int c;
    while ((c = fgetc(pipe_)) != EOF) {
      if (c == '\n') {
        raw_ += *line + "\n";
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return true;
      }
      line->push_back(static_cast<char>(c));
    }
    raw_ += *line;
    return !line->empty();
  }

  // Reads the rest and splits what curl printed into a Response.
  Response ReadAll() {
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe_)) > 0) {
      raw_.append(buffer, n);
    }
    Reap();
    Response response;
    const size_t end = raw_.find("\r\n\r\n");
    response.headers = raw_.substr(0, end);
    if (end != std::string::npos) response.body = raw_.substr(end + 4);
    if (raw_.size() > 12) response.status = std::atoi(raw_.c_str() + 9);
    return response;
  }

 private:
  void Reap() {
    if (pipe_ != nullptr) fclose(pipe_);
    pipe_ = nullptr;
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
 private:
  FILE* pipe_ = nullptr;
  std::string raw_;
};

inline Response Get(const std::vector<std::string>& args) {
  return Curl(args).ReadAll();
}

}  // namespace memlog::http::test

#endif  // MEMLOG_TESTS_HTTP_HTTP_TEST_SUPPORT_H_
