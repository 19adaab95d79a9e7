# Debian package helpers for the test-guest builders (sourced): pick an apt, resolve versions, download .debs.
#
# Two kinds of apt: the system's (its own suite; a foreign architecture is added with dpkg when needed) and a
# private one per suite+arch under the cache (another suite, e.g. trixie for riscv64), which leaves the
# system's sources, lists and architectures untouched. Callers set: cache, debarch, suite (and debs for downloads).
# shellcheck shell=bash disable=SC2154

log() { printf '%s\n' "$*" >&2; }
die() {
  log "error: $1"
  [ -n "${2:-}" ] && log "hint: $2"
  exit 1
}
is_root() { [ "$(id -u)" = 0 ]; }

apt_opts=()
apt_lists=/var/lib/apt/lists
system_suite=''

# The suite the system's apt tracks (bookworm here), from /etc/os-release rather than assumed.
system_suite() {
  [ -n "$system_suite" ] || system_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  echo "$system_suite"
}

# The system's Debian mirror URI for the main suite, so a private apt uses the mirror this machine is set up for.
system_mirror() {
  # shellcheck disable=SC2016 # apt's own $(FIELD) placeholders.
  apt-get indextargets --format '$(REPO_URI) $(LABEL) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
    awk -v suite="$(system_suite)" '$2 == "Debian" && $3 == suite { print $1; exit }'
}

private_state() { echo "$cache/apt/$suite-$debarch"; }

# Sets apt_opts/apt_lists so later apt-get/apt-cache calls see $suite for $debarch; no side effects.
apt_select() {
  local state
  if [ "$suite" = "$(system_suite)" ]; then
    apt_opts=()
    apt_lists=/var/lib/apt/lists
  else
    state=$(private_state)
    apt_lists="$state/lists"
    apt_opts=(
      -o "Dir::State=$state" -o "Dir::State::Lists=$apt_lists" -o "Dir::State::status=$state/status"
      -o "Dir::Cache=$state/cache" -o "Dir::Etc::sourcelist=$state/sources.list"
      -o "Dir::Etc::sourceparts=$state/empty.d" -o "Dir::Etc::preferencesparts=$state/empty.d"
      -o "APT::Architecture=$debarch" -o "APT::Architectures=$debarch" -o "Debug::NoLocking=1"
    )
  fi
  # apt drops to the _apt user for downloads; our 0700 cache is not writable by it, so keep root.
  if is_root; then apt_opts+=(-o APT::Sandbox::User=root); fi
}

# Makes the selected apt able to see $debarch packages, updating only when it cannot yet (hold the build lock).
apt_prepare() {
  if [ "$apt_lists" = /var/lib/apt/lists ]; then
    if system_arch_missing; then apt_update; fi
  else
    [ -f "$(private_state)/sources.list" ] || apt_update
  fi
}

system_arch_missing() {
  [ "$debarch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$debarch"
}

# Refreshes the selected apt's lists; for the system's apt first adds $debarch as a foreign architecture if needed.
apt_update() {
  if [ "$apt_lists" != /var/lib/apt/lists ]; then
    apt_private_sources
    log "updating the private apt lists for $suite/$debarch"
    apt-get "${apt_opts[@]}" update -q >&2
    return
  fi
  local fix='apt-get update' add=''
  if system_arch_missing; then
    add=1
    fix="dpkg --add-architecture $debarch && apt-get update"
  fi
  is_root || die "the system's apt cannot provide the $debarch packages yet" "run as root: $fix"
  log "running: $fix"
  if [ -n "$add" ]; then dpkg --add-architecture "$debarch"; fi
  apt-get update -q >&2
}

# A sources.list for $suite/$debarch on the mirror the system already uses.
apt_private_sources() {
  local state mirror
  state=$(private_state)
  [ -f "$state/sources.list" ] && return 0
  mirror=$(system_mirror)
  [ -n "$mirror" ] || die "cannot find the system's Debian mirror in apt's sources" \
    "add a Debian '$(system_suite) main' source to /etc/apt/sources.list(.d)"
  mkdir -p "$apt_lists/partial" "$state/cache/archives/partial" "$state/empty.d"
  : >"$state/status"
  printf 'deb [arch=%s signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
    "$debarch" "$mirror" "$suite" >"$state/sources.list.part"
  mv "$state/sources.list.part" "$state/sources.list"
}

# Prints "name version" for each PACKAGE (candidate versions), through a cache keyed on the apt lists' state:
# apt-cache alone costs ~0.5 s here (no pkgcache), a cached answer a few ms.
apt_candidates() {
  local fp memo
  fp=$( (
    printf '%s\n' "$debarch" "$@" "${apt_opts[@]}"
    stat -c '%n %s %Y' "$apt_lists"/*_Packages* 2>/dev/null || true
  ) | sha256sum | cut -c1-16)
  memo="$cache/resolved/$fp"
  if [ ! -s "$memo" ]; then
    mkdir -p "$cache/resolved"
    apt_candidates_uncached "$@" >"$memo.$$" || {
      rm -f "$memo.$$"
      return 1
    }
    mv "$memo.$$" "$memo"
  fi
  cat "$memo"
}

apt_candidates_uncached() {
  local pkg args=() all=() out
  for pkg in "$@"; do args+=("$pkg:$debarch"); done
  out=$(apt-cache "${apt_opts[@]}" show --no-all-versions "${args[@]}" 2>/dev/null) || return 1
  # Architecture: all packages (cloud-init) have no :arm64 name when arm64 is a foreign architecture.
  for pkg in "$@"; do grep -qx "Package: $pkg" <<<"$out" || all+=("$pkg:all"); done
  if ((${#all[@]})); then
    out+=$'\n'$(apt-cache "${apt_opts[@]}" show --no-all-versions "${all[@]}" 2>/dev/null) || return 1
  fi
  # A kernel metapackage names the real image package and its exact version: "Depends: linux-image-X (= V)".
  out=$(awk '
    /^Package:/ { pkg = $2 }
    /^Version:/ { print pkg, $2 }
    /^Depends:/ && pkg ~ /^linux-image-[a-z]/ && match($0, /linux-image-[0-9][^ ,:]* \(= [^)]*\)/) {
      split(substr($0, RSTART, RLENGTH), f, /[ ()=]+/); print "@kernel", f[1], f[2]
    }' <<<"$out")
  for pkg in "$@"; do grep -q "^$pkg " <<<"$out" || return 1; done
  echo "$out"
}

# deb_path NAME VERSION: where a .deb lives in the download cache (apt's own naming: ':' as %3a).
deb_path() { echo "$debs/${1}_${2//:/%3a}_${debarch}.deb"; }

# deb_fetch NAME VERSION: downloads once into $debs; returns non-zero when apt cannot get it.
deb_fetch() {
  local target partial
  target=$(deb_path "$1" "$2")
  [ -f "$target" ] && return 0
  partial=$(mktemp -d "$debs/.download.XXXXXX")
  log "downloading $1 $2 ($debarch)"
  if (cd "$partial" && apt-get "${apt_opts[@]}" download -q "$1:$debarch=$2" >&2); then
    mv "$partial"/*.deb "$target"
    rm -rf "$partial"
  else
    rm -rf "$partial"
    return 1
  fi
}
