#!/usr/bin/env bash
# Writes src/Containers/Security/Seccomp/PrecompiledFilters.g.cs: the BPF programs SeccompCompiler makes today for the
# ready-made profiles (SeccompProfiles.Default and Sandbox) on x86_64 and aarch64, built into the runtime so no
# container start compiles them. Run it after changing the compiler, the profiles or the system call tables; the unit
# test PrecompiledFiltersTests fails until then. The unit test project renders the file (it sees the internals).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/Containers/Security/Seccomp/PrecompiledFilters.g.cs
dotnet build tests/Containers.Tests -c Release -v q -nologo
CONTAINERS_WRITE_PRECOMPILED_FILTERS="$PWD/$out" tests/Containers.Tests/bin/Release/net10.0/Containers.Tests \
  -method 'Containers.Tests.Security.Seccomp.PrecompiledFiltersTests.The_generated_file_is_the_rendering_of_the_compilers_programs' >/dev/null || true
# Built again with the new programs, the test that compares them with the compiler must pass.
dotnet build tests/Containers.Tests -c Release -v q -nologo
tests/Containers.Tests/bin/Release/net10.0/Containers.Tests -class 'Containers.Tests.Security.Seccomp.PrecompiledFiltersTests'
echo "wrote $out"
