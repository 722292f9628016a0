#!/usr/bin/env bash
# Installs corral under PREFIX (default /usr/local), from this checkout:
#   bin/corral                                      one static binary (glibc and the Swift runtime in it)
#   share/man/man1/corral.1, corral.ctl.1, …        the manual (swift-argument-parser's generate-manual),
#                                                   a page per command and subcommand (corral-ctl.1,
#                                                   … name the same pages, as git's do)
#   share/bash-completion/completions/corral        completion for bash,
#   share/zsh/site-functions/_corral                zsh
#   share/fish/vendor_completions.d/corral.fish     and fish
#   share/doc/corral/                               the README and the systemd, Prometheus and
#                                                   Kubernetes examples
# Run it again to update (the same files are replaced); --uninstall removes them.
#
#   scripts/install.sh [--uninstall] [PREFIX]
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

uninstall=false
prefix=/usr/local
for argument in "$@"; do
    case "$argument" in
    --uninstall) uninstall=true ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "install.sh: unknown option $argument" >&2; usage >&2; exit 64 ;;
    *) prefix=$argument ;;
    esac
done
case "$prefix" in
/*) ;;
*) prefix="$PWD/$prefix" ;;
esac
cd "$(dirname "$0")/.."

installed=(
    bin/corral
    share/bash-completion/completions/corral
    share/zsh/site-functions/_corral
    share/fish/vendor_completions.d/corral.fish
)

if $uninstall; then
    for file in "${installed[@]}"; do rm -f "$prefix/$file"; done
    rm -f "$prefix/share/man/man1/corral.1" "$prefix"/share/man/man1/corral.*.1 "$prefix"/share/man/man1/corral-*.1
    rm -rf "$prefix/share/doc/corral"
    echo "corral removed from $prefix"
    exit 0
fi

# The manual, from the command line's own definition (the plugin builds the package's tools; a
# debug build is enough for the text and is what `swift build` already made).
swift package --disable-sandbox plugin generate-manual --configuration debug --multi-page \
    --date "$(git log -1 --format=%cs 2>/dev/null || date +%F)" \
    --authors "The Corral authors"
manuals=.build/plugins/GenerateManual/outputs/corral

# The binary: release, with everything it uses linked in — the Swift standard library and the
# part of Foundation it uses, the C++ runtime (TOMLKit's parser), ncursesw with its tinfo (the
# dashboard), libgcc's unwinder, and glibc itself (-static-executable) —, so that it runs without
# the Swift toolchain and loads no library at all: no ld.so, no symbol binding, at each start of
# corral and of its watchdog (-- /bin/true 0.7-0.9 ms faster; BENCHMARKS.md, "Start-up"). glibc
# linked in reads /etc/passwd, /etc/hosts and DNS by itself; only other name services would be
# loaded from the system (another glibc's), and corral asks for none: it takes IP addresses and
# localhost. No $ORIGIN library path: it never looks for a library beside itself; where glibc
# stays shared (below), it exports none of its own symbols either (--no-export-dynamic: ld.so
# and the runtime's one dladdr searched them all). Linked at a fixed address (-no-pie): a
# position-independent corral spent a fifth of its start-up applying 60,000 relocations to
# Swift's metadata. Concrete generic types are reached through their
# metadata functions rather than by demangling their names at run time (a sixth fewer
# instructions at start-up: the demangler checked each type's requirements by scanning every
# conformance). The git revision goes in as a C define: SwiftPM may reuse a Package.swift
# evaluated for an earlier commit (its manifest cache), so the manifest's own reading can be stale.
build=(swift build -c release --product corral --static-swift-stdlib --disable-local-rpath
    -Xswiftc -Xclang-linker -Xswiftc -no-pie -Xlinker --no-export-dynamic
    -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors)
if revision=$(git rev-parse --short=12 HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
    build+=(-Xcc "-DCORRAL_BUILD_REVISION=\"$revision\"")
fi
static_libraries=.build/static-libraries
rm -rf "$static_libraries"
if "${build[@]}" -Xswiftc -static-executable; then
    build+=(-Xswiftc -static-executable)
    echo "install.sh: glibc is linked in (the linker's warnings above are of name lookups and dlopen, which corral does not need)" >&2
else
    # Without a static glibc (libc.a: Debian's libc6-dev, Fedora's glibc-static) glibc stays
    # shared, and the other C libraries are still linked in where their archives are, so that
    # only glibc is loaded (each library cost ld.so a symbol lookup per relocation: a sixth of
    # `corral --version`). The link line asks for them by -l, from the runtime's autolink
    # entries, before any flag of ours; a directory searched first holds linker scripts of those
    # names that point to the static archives. A library whose archive the toolchain's C
    # compiler cannot find stays shared (said, not fatal).
    echo "install.sh: glibc could not be linked in (no libc.a?): it stays shared" >&2
    mkdir -p "$static_libraries"
    compiler="$(dirname "$(command -v swift)")/clang"
    [ -x "$compiler" ] || compiler=cc
    archive() { # archive NAME: the path of libNAME.a, or nothing
        local path
        path=$("$compiler" -print-file-name="lib$1.a" 2>/dev/null) || return 0
        [ "$path" != "lib$1.a" ] && [ -f "$path" ] && echo "$path"
        return 0
    }
    for library in stdc++:stdc++ ncursesw:ncursesw,tinfo tinfo:tinfo gcc_s:gcc_eh,gcc; do
        name=${library%%:*}
        archives=()
        IFS=, read -r -a parts <<<"${library#*:}"
        for part in "${parts[@]}"; do
            path=$(archive "$part")
            if [ -z "$path" ]; then
                echo "install.sh: lib$part.a not found: corral loads lib$name.so at start" >&2
                archives=()
                break
            fi
            archives+=("$path")
        done
        if [ ${#archives[@]} -gt 0 ]; then echo "INPUT(${archives[*]})" >"$static_libraries/lib$name.so"; fi
    done
    build+=(-Xlinker -L"$PWD/$static_libraries")
    "${build[@]}"
fi
binary="$("${build[@]}" --show-bin-path)/corral"

# Each file goes in through a temporary name and a rename: a running corral keeps its binary,
# a reader never sees half a file.
put() { # put MODE SOURCE DESTINATION
    mkdir -p "$(dirname "$3")"
    cp "$2" "$3.installing.$$"
    chmod "$1" "$3.installing.$$"
    mv -f "$3.installing.$$" "$3"
}

put 0755 "$binary" "$prefix/bin/corral"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# Every page but `help`'s; a blank line of the help text becomes mdoc's paragraph break (.Pp),
# which man would otherwise warn about.
rm -f "$prefix"/share/man/man1/corral.*.1 "$prefix"/share/man/man1/corral-*.1
for page in "$manuals"/corral.1 "$manuals"/corral.*.1; do
    name=$(basename "$page")
    [ "$name" = corral.help.1 ] && continue
    sed 's/^$/.Pp/' "$page" >"$staging/$name"
    put 0644 "$staging/$name" "$prefix/share/man/man1/$name"
    # `man corral-ctl` as well as `man corral.ctl`.
    base=${name%.1}
    if [ "$name" != corral.1 ]; then ln -sfn "$name" "$prefix/share/man/man1/${base//./-}.1"; fi
done
completions="$staging/completions"
mkdir "$completions"
for shell in bash zsh fish; do
    "$binary" --generate-completion-script "$shell" >"$completions/$shell"
done
put 0644 "$completions/bash" "$prefix/share/bash-completion/completions/corral"
put 0644 "$completions/zsh" "$prefix/share/zsh/site-functions/_corral"
put 0644 "$completions/fish" "$prefix/share/fish/vendor_completions.d/corral.fish"
for file in README.md Examples/systemd/* Examples/prometheus/* Examples/kubernetes/*; do
    put 0644 "$file" "$prefix/share/doc/corral/${file#Examples/}"
done
# The commit installed, as git said it (the binary's --version must say the same).
if [ -n "${revision:-}" ]; then
    printf '%s\n' "$revision" >"$staging/REVISION"
    put 0644 "$staging/REVISION" "$prefix/share/doc/corral/REVISION"
fi

echo "corral $("$prefix/bin/corral" --version) installed in $prefix"
