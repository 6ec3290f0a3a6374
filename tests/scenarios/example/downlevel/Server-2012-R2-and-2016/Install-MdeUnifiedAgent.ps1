#Requires -Version 4.0
<#
.SYNOPSIS
    Installs the Microsoft Defender for Endpoint unified agent (md4ws.msi) with Microsoft's
    install.ps1 from a local copy, and onboards the server.

.DESCRIPTION
    Written by mdegen. install.ps1 writes its logs into its own folder, and SYSTEM cannot write
    to the share it is deployed from; so this script

      1. copies install.ps1, md4ws.msi and the onboarding script from its own folder to a local
         folder and checks the SHA-256 of every copy against the value mdegen recorded;
      2. runs the copy of install.ps1 in the 64-bit Windows PowerShell with -OnboardingScript
         (and -Passive when it was given -Passive);
      3. copies the logs to the log share when mdegen was given one;
      4. exits with install.ps1's exit code, unchanged; where that is 0 but the server is not
         onboarded (install.ps1 only warns when the onboarding script fails), with 83.
    81, 82 and 83 are this script's own: the copy failed, a hash differed, not onboarded.

.PARAMETER Passive
    Install with Defender Antivirus in passive mode (install.ps1 -Passive).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Install-MdeUnifiedAgent.ps1 -Passive
#>
[CmdletBinding()]
param([switch] $Passive)

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'

# ---------------------------------------------------------------------------------------------
# Written by mdegen. Values are single-quoted literals: PowerShell expands nothing inside them.
# ---------------------------------------------------------------------------------------------
$Kit = [pscustomobject]@{
    Organization = 'Contoso Example Ltd'
    Release      = '2026.1.0'
}
$Payload = [pscustomobject]@{
    LocalFolder      = 'C:\ProgramData\mdegen\unified'
    InstallScript    = 'install.ps1'
    OnboardingScript = 'WindowsDefenderATPOnboardingScript.cmd'
    LogShare         = '\\fs01.contoso.example\MDE-Logs$'
    WrapperLog       = 'Install-MdeUnifiedAgent.log'
    StatusKey        = 'Software\Microsoft\Windows Advanced Threat Protection\Status'
    StateValue       = 'OnboardingState'
    StateWaitSeconds = 120
}
# The files beside this script, with the SHA-256 of each as mdegen packed it.
$Files = @(
    [pscustomobject]@{ Name = 'install.ps1'; Sha256 = '569D8B0E0A4D82D8B12BE6241365DE0DB2705CB4579DC7AD63134366A38CD9B2' }
    [pscustomobject]@{ Name = 'md4ws.msi'; Sha256 = '2879E56DDD6B23C3A2D036CAE69F6234C1116044A8864F5266569C1F147F7C67' }
    [pscustomobject]@{ Name = 'WindowsDefenderATPOnboardingScript.cmd'; Sha256 = '92177C9C747F5FE1D38CE04B7C427DD44FB62E1F189F553D285DE4AB578AA717' }
)
$CopyFailed = 81
$HashMismatch = 82
$NotOnboarded = 83

try {
    if (-not (Test-Path -LiteralPath $Payload.LocalFolder)) {
        New-Item -ItemType Directory -Path $Payload.LocalFolder -Force | Out-Null
    }
}
catch {
    Write-Output ('could not create {0}: {1}' -f $Payload.LocalFolder, $_.Exception.Message)
    exit $CopyFailed
}
$LogPath = Join-Path $Payload.LocalFolder $Payload.WrapperLog
function Write-Line {
    param([string] $Text)
    $line = '{0:yyyy-MM-dd HH:mm:ss} {1}' -f (Get-Date), $Text
    Write-Output $line
    try {
        Add-Content -LiteralPath $LogPath -Value $line
    }
    catch {
        Write-Output ('(could not write the log {0}: {1})' -f $LogPath, $_.Exception.Message)
    }
}

# 1. Copy to the local folder and check every copy.
try {
    Write-Line ('{0} {1}: copying the unified agent files from {2}' -f $Kit.Organization, $Kit.Release, $PSScriptRoot)
    foreach ($file in $Files) {
        Copy-Item -LiteralPath (Join-Path $PSScriptRoot $file.Name) -Destination (Join-Path $Payload.LocalFolder $file.Name) -Force
    }
}
catch {
    Write-Line ('could not copy the files to {0}: {1}' -f $Payload.LocalFolder, $_.Exception.Message)
    exit $CopyFailed
}
foreach ($file in $Files) {
    $actual = (Get-FileHash -LiteralPath (Join-Path $Payload.LocalFolder $file.Name) -Algorithm SHA256).Hash
    if ($actual -ne $file.Sha256) {
        Write-Line ('{0} has SHA-256 {1}, not {2} as mdegen recorded: the share holds another file; copy the kit again' -f $file.Name, $actual, $file.Sha256)
        exit $HashMismatch
    }
}

# 2. Run install.ps1 in the 64-bit Windows PowerShell (a 32-bit host, such as the ConfigMgr
# client's, reaches it through Sysnative). RemoteSigned: the copies are local files.
$powershell = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {
    $powershell = Join-Path $env:SystemRoot 'Sysnative\WindowsPowerShell\v1.0\powershell.exe'
}
$arguments = @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'RemoteSigned', '-File',
    (Join-Path $Payload.LocalFolder $Payload.InstallScript),
    '-OnboardingScript', (Join-Path $Payload.LocalFolder $Payload.OnboardingScript))
if ($Passive) {
    $arguments += '-Passive'
}
Write-Line ('running {0} {1}' -f $powershell, ($arguments -join ' '))
& $powershell @arguments
$exitCode = $LASTEXITCODE
Write-Line ('install.ps1 exited with {0}' -f $exitCode)

# 3. Collect the logs where the admin can read them.
if ($Payload.LogShare) {
    try {
        $target = Join-Path $Payload.LogShare $env:COMPUTERNAME
        if (-not (Test-Path -LiteralPath $target)) {
            New-Item -ItemType Directory -Path $target -Force | Out-Null
        }
        Get-ChildItem -LiteralPath $Payload.LocalFolder -Filter '*.log' | Copy-Item -Destination $target -Force
        Write-Line ('copied the logs to {0}' -f $target)
    }
    catch {
        Write-Line ('could not copy the logs to {0}: {1}; they stay in {2}' -f $Payload.LogShare, $_.Exception.Message, $Payload.LocalFolder)
    }
}

# 4. install.ps1's exit code, unchanged; but install.ps1 only warns when the onboarding script
# fails and still exits 0, so a 0 counts only once the onboarding state says onboarded.
if ($exitCode -eq 0) {
    $state = $null
    for ($i = 0; $i -lt $Payload.StateWaitSeconds; $i += 5) {
        $item = Get-ItemProperty -Path ('HKLM:\' + $Payload.StatusKey) -Name $Payload.StateValue -ErrorAction SilentlyContinue
        if ($null -ne $item) {
            $state = $item.($Payload.StateValue)
        }
        if ($state -eq 1) {
            break
        }
        Start-Sleep -Seconds 5
    }
    if ($state -ne 1) {
        Write-Line ('install.ps1 exited with 0, but {0} is {1}, not 1: the onboarding script failed; see the Application log (WDATPOnboarding)' -f $Payload.StateValue, $state)
        exit $NotOnboarded
    }
}
exit $exitCode
