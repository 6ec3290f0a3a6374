#Requires -Version 4.0
<#
.SYNOPSIS
    Offboards the server and uninstalls the Defender for Endpoint unified agent, with Microsoft's
    install.ps1 run from a local copy.

.DESCRIPTION
    Written by mdegen. Copies install.ps1 and the portal's offboarding script (valid until
    2099-12-31 12:00 UTC) to a local folder for SYSTEM and Administrators only, checks their SHA-256,
    and runs install.ps1 -Uninstall -OffboardingScript with them: it offboards, waits for the
    sensor to stop, and removes md4ws.msi's product. Tamper protection blocks the removal
    (exit code 38): turn it off for the device in the Defender portal first. Run it elevated or as
    SYSTEM; -WhatIf shows what it would do.

    Exit codes: install.ps1's, unchanged (20 not installed, 32 offboarding script not found, 33
    offboarding failed, 38 tamper protected, msiexec's); 81 the copy failed, 82 a hash differed,
    84 the work folder is not owned by SYSTEM or Administrators, 85 the server reports to another
    organisation.

.PARAMETER Unattended
    Do not ask for confirmation: for a GPO task, a ConfigMgr program or an RMM job, where nobody
    can answer (-Confirm:$false cannot be passed through powershell.exe -File).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Uninstall-MdeUnifiedAgent.ps1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
param([switch] $Unattended)

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

if ($Unattended) {
    $ConfirmPreference = 'None'
}

$Payload = [pscustomobject]@{
    LocalFolder       = 'C:\ProgramData\mdegen\unified-offboard'
    Folders           = @('C:\ProgramData\mdegen', 'C:\ProgramData\mdegen\unified-offboard')
    InstallScript     = 'install.ps1'
    OffboardingScript = 'WindowsDefenderATPOffboardingScript_valid_until_2099-12-31.cmd'
    WrapperLog        = 'Uninstall-MdeUnifiedAgent.log'
    OrgIds            = @('00000000-0000-0000-0000-000000000000')
    StatusKey         = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
}
$Files = @(
    [pscustomobject]@{ Name = 'install.ps1'; Sha256 = '569D8B0E0A4D82D8B12BE6241365DE0DB2705CB4579DC7AD63134366A38CD9B2' }
    [pscustomobject]@{ Name = 'WindowsDefenderATPOffboardingScript_valid_until_2099-12-31.cmd'; Sha256 = '37E805D586DBE5576DC1A5D4C9CDE54C6CEFBF82F6EB8F553010254FA16732DA' }
)

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

if (-not $PSCmdlet.ShouldProcess('this server', 'Offboard from Defender for Endpoint and uninstall the unified agent')) {
    exit 0
}
try {
    foreach ($folder in $Payload.Folders) {
        Initialize-PrivateFolder -Path $folder
    }
}
catch {
    Write-Output ('mdegen''s work folder is not safe to use: {0}' -f $_.Exception.Message)
    exit 84
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

# A server onboarded to another organisation is not this kit's to take off (the portal's script
# would refuse it too, after install.ps1 had prepared everything).
$status = Get-ItemProperty -Path ('HKLM:\' + $Payload.StatusKey) -Name 'OrgId' -ErrorAction SilentlyContinue
if ($null -ne $status -and $status.OrgId) {
    $ours = @($Payload.OrgIds | Where-Object { ($_ -as [guid]) -eq ($status.OrgId -as [guid]) })
    if ($ours.Count -eq 0) {
        Write-Line ('this server reports to organisation {0}, none of {1}: nothing of this kit''s to offboard' -f $status.OrgId, ($Payload.OrgIds -join ', '))
        exit 85
    }
}

try {
    foreach ($file in $Files) {
        Copy-Item -LiteralPath (Join-Path $PSScriptRoot $file.Name) -Destination (Join-Path $Payload.LocalFolder $file.Name) -Force
    }
}
catch {
    Write-Line ('could not copy the files to {0}: {1}' -f $Payload.LocalFolder, $_.Exception.Message)
    exit 81
}
foreach ($file in $Files) {
    $actual = (Get-FileHash -LiteralPath (Join-Path $Payload.LocalFolder $file.Name) -Algorithm SHA256).Hash
    if ($actual -ne $file.Sha256) {
        Write-Line ('{0} has SHA-256 {1}, not {2} as mdegen recorded: copy the kit again' -f $file.Name, $actual, $file.Sha256)
        exit 82
    }
}
$powershell = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
$arguments = @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'RemoteSigned', '-File',
    (Join-Path $Payload.LocalFolder $Payload.InstallScript), '-Uninstall',
    '-OffboardingScript', (Join-Path $Payload.LocalFolder $Payload.OffboardingScript))
Write-Line ('running {0} {1}' -f $powershell, ($arguments -join ' '))
$ErrorActionPreference = 'Continue'
& $powershell @arguments
$exitCode = $LASTEXITCODE
$ErrorActionPreference = 'Stop'
Write-Line ('install.ps1 exited with {0}' -f $exitCode)
if ($exitCode -eq 38) {
    Write-Line 'tamper protection blocks the removal: turn it off for this device in the Defender portal, then run again'
}
exit $exitCode
