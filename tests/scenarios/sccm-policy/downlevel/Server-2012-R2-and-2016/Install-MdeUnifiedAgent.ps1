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
    It exits 0 at once on a server that is onboarded already (install.ps1 would stop with 35).
    81-84 are this script's own: the copy failed, a hash differed, not onboarded, the work folder
    under %ProgramData% is not owned by SYSTEM or Administrators.

.PARAMETER Passive
    Install with Defender Antivirus in passive mode (install.ps1 -Passive).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Install-MdeUnifiedAgent.ps1 -Passive
#>
[CmdletBinding()]
param([switch] $Passive)

if ($env:PROCESSOR_ARCHITEW6432 -eq 'AMD64' -and $MyInvocation.MyCommand.Path) {
    $relaunch = @('-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', $MyInvocation.MyCommand.Path)
    foreach ($parameter in $PSBoundParameters.GetEnumerator()) {
        if ($parameter.Value -is [System.Management.Automation.SwitchParameter]) {
            if ($parameter.Value.IsPresent) {
                $relaunch += ('-' + $parameter.Key)
            }
        }
        elseif ([string] $parameter.Value) {
            # Windows PowerShell drops an empty string on a native command line: leave it out.
            $relaunch += ('-' + $parameter.Key)
            $relaunch += [string] $parameter.Value
        }
    }
    & (Join-Path $env:SystemRoot 'Sysnative\WindowsPowerShell\v1.0\powershell.exe') @relaunch
    exit $LASTEXITCODE
}

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'

# ---------------------------------------------------------------------------------------------
# Written by mdegen. Values are single-quoted literals: PowerShell expands nothing inside them.
# ---------------------------------------------------------------------------------------------
$Kit = [pscustomobject]@{
    Organization = 'Northwind Traders'
    Release      = '2026.12.1'
}
$Payload = [pscustomobject]@{
    LocalFolder      = 'C:\ProgramData\mdegen\unified'
    Folders          = @('C:\ProgramData\mdegen', 'C:\ProgramData\mdegen\unified')
    OptionalFiles    = @('UpdatePlatform.exe')
    SenseServiceKey  = 'SYSTEM\CurrentControlSet\Services\Sense'
    InstallScript    = 'install.ps1'
    OnboardingScript = 'WindowsDefenderATPOnboardingScript.cmd'
    LogShare         = ''
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
$UnsafeFolder = 84

function Initialize-PrivateFolder {
    # Users may create folders under %ProgramData% and own what they create: a folder planted there
    # before the first run would let them swap a checked file before it runs, or plant a DLL that
    # SYSTEM loads. So mdegen's folders get an ACL of SYSTEM and Administrators only, and one that
    # exists already must be owned by one of them.
    param([string] $Path)
    if (Test-Path -LiteralPath $Path) {
        # .NET rather than Get-Acl/Set-Acl: their -LiteralPath came with PowerShell 3.0.
        $owner = [System.IO.Directory]::GetAccessControl($Path).GetOwner([System.Security.Principal.SecurityIdentifier]).Value
        if ($owner -ne 'S-1-5-18' -and $owner -ne 'S-1-5-32-544') {
            throw ('{0} exists and is owned by {1}, not by SYSTEM or Administrators: delete it and run again' -f $Path, $owner)
        }
    }
    else {
        New-Item -ItemType Directory -Path $Path -Force | Out-Null
    }
    $acl = New-Object System.Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in @('S-1-5-18', 'S-1-5-32-544')) {
        $identity = New-Object System.Security.Principal.SecurityIdentifier($sid)
        $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($identity, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')))
    }
    [System.IO.Directory]::SetAccessControl($Path, $acl)
}

try {
    foreach ($folder in $Payload.Folders) {
        Initialize-PrivateFolder -Path $folder
    }
}
catch {
    Write-Output ('mdegen''s work folder is not safe to use: {0}' -f $_.Exception.Message)
    exit $UnsafeFolder
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

# 0. Already onboarded (the Sense service starts automatically and the state is 1): install.ps1
# would stop with 35 after copying and preparing everything, at every Group Policy refresh.
$sense = Get-ItemProperty -Path ('HKLM:\' + $Payload.SenseServiceKey) -Name 'Start' -ErrorAction SilentlyContinue
$status = Get-ItemProperty -Path ('HKLM:\' + $Payload.StatusKey) -Name $Payload.StateValue -ErrorAction SilentlyContinue
if ($null -ne $sense -and $sense.Start -eq 2 -and $null -ne $status -and $status.($Payload.StateValue) -eq 1) {
    Write-Line 'the server is onboarded already (Sense starts automatically, onboarding state 1): nothing to do'
    exit 0
}

# 1. Copy to the local folder and check every copy.
try {
    Write-Line ('{0} {1}: copying the unified agent files from {2}' -f $Kit.Organization, $Kit.Release, $PSScriptRoot)
    foreach ($file in $Files) {
        Copy-Item -LiteralPath (Join-Path $PSScriptRoot $file.Name) -Destination (Join-Path $Payload.LocalFolder $file.Name) -Force
    }
    # Files install.ps1 uses when they sit beside it (an offline Defender platform update), which
    # the admin may add to the share: copied when present, their SHA-256 logged (mdegen has none).
    foreach ($name in $Payload.OptionalFiles) {
        $optional = Join-Path $PSScriptRoot $name
        if (Test-Path -LiteralPath $optional) {
            Copy-Item -LiteralPath $optional -Destination (Join-Path $Payload.LocalFolder $name) -Force
            Write-Line ('copied {0} too, SHA-256 {1}' -f $name, (Get-FileHash -LiteralPath $optional -Algorithm SHA256).Hash)
        }
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
# install.ps1 writes its errors to stderr: with Stop, a host that redirects it would turn them
# into a terminating error here and lose the exit code.
$ErrorActionPreference = 'Continue'
& $powershell @arguments
$exitCode = $LASTEXITCODE
$ErrorActionPreference = 'Stop'
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
