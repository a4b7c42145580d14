# Installs Debian packages that the calling script needs and the machine
# lacks. Sourced by bazelw and by the scripts of tools/ and tests/; not run on
# its own. With everything present it prints nothing and costs one dpkg query.
#
#   source tools/install_packages.sh
#   memlog_require_packages cmake pkg-config g++   # installs what is missing
#   memlog_require_commands npm                    # the same, for a command
#
# Installing needs root or sudo. When another apt-get or dpkg holds the
# package database lock, this waits for it (up to ten minutes) instead of
# failing.

# Prints the given packages that are not installed, with one dpkg query.
memlog_missing_packages() {
  local installed
  # dpkg-query fails for packages it has never seen; what it prints still
  # counts.
  installed="$( (dpkg-query -W -f='${db:Status-Status} ${Package}\n' \
    "$@" 2>/dev/null || true) | awk '$1 == "installed" { print $2 }')"
  local name
  for name in "$@"; do
    grep -qx -- "${name}" <<<"${installed}" || echo "${name}"
  done
}

# Installs the given packages with apt-get, through sudo when not root.
memlog_install_packages() {
  local who
  who="$(basename "$0")"
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "${who}: please install as root: apt-get install -y $*" >&2
      exit 1
    fi
  fi
  local wait_for_lock=(-o DPkg::Lock::Timeout=600)
  echo "${who}: installing $* ..." >&2
  "${sudo[@]}" apt-get "${wait_for_lock[@]}" update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${wait_for_lock[@]}" install -y -qq --no-install-recommends \
    "$@" >&2
}

# Installs those of the given Debian packages that are missing.
memlog_require_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "$(basename "$0"): needs a Debian-based system (dpkg, apt-get)." >&2
    exit 1
  fi
  local missing
  mapfile -t missing < <(memlog_missing_packages "$@")
  if ((${#missing[@]} > 0)); then
    memlog_install_packages "${missing[@]}"
  fi
}

# Installs the Debian package of each given command that is not on PATH
# (for tools that may come from elsewhere too, such as npm with a Node.js
# installed outside Debian's packages). The package has the command's name.
memlog_require_commands() {
  local missing=() name
  for name in "$@"; do
    command -v "${name}" >/dev/null 2>&1 || missing+=("${name}")
  done
  if ((${#missing[@]} > 0)); then
    memlog_require_packages "${missing[@]}"
  fi
}
