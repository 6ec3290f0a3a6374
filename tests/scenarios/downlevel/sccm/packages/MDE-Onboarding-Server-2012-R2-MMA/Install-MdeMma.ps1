#Requires -Version 2.0
<#
.SYNOPSIS
    Installs the Microsoft Monitoring Agent (MMA) reporting to the Defender for Endpoint
    workspace, or adds that workspace to an agent that is already installed.

.DESCRIPTION
    Written by mdegen. The legacy route for Defender for Endpoint on down-level servers (Microsoft
    retired MMA in 2024; prefer DefenderDT where you can). The script

      1. reads the workspace key at run time: the environment variable MDE_MMA_WORKSPACE_KEY, else
         the file named by -WorkspaceKeyFile, else MdeWorkspaceKey.txt beside this script (give
         that file Read for the servers' computer accounts only). The proxy password, where a proxy
         user is configured, the same way (MDE_PROXY_PASSWORD, -ProxyPasswordFile,
         MdeProxyPassword.txt);
      2. when the agent is installed (the HealthService service exists, as with SCOM or Azure
         Monitor) and reports to the workspace already, exits 0 without reading any secret;
         otherwise adds the workspace through AgentConfigManager.MgmtSvcCfg (multi-homing),
         sets the proxy (for the whole agent: every workspace uses it), reloads the
         configuration and exits 0;
      3. otherwise copies the setup program to a local folder, checks its SHA-256, extracts it and
         runs setup.exe /qn with the workspace, cloud type and proxy properties, and exits with
         setup.exe's exit code, unchanged.

    It logs to Install-MdeMma.log in its local folder; the key and password never appear there.

    Exit code 0 means the agent is installed and reports to the workspace; the Defender sensor
    onboards through it within minutes (check the Operations Manager log). mdegen's own exit
    codes: 81 the copy failed, 82 the copy's SHA-256 differs, 83 extraction failed, 84 no
    workspace key found, 85 the key is not a workspace key, 86 no usable proxy password found,
    87 the agent's configuration object failed, 88 the work folder under %ProgramData% is not
    owned by SYSTEM or Administrators.

.PARAMETER WorkspaceKeyFile
    A file that holds the workspace key (one line).

.PARAMETER ProxyPasswordFile
    A file that holds the proxy password (one line).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Install-MdeMma.ps1 -WorkspaceKeyFile D:\secure\key.txt
#>
[CmdletBinding()]
param([string] $WorkspaceKeyFile = '', [string] $ProxyPasswordFile = '')

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
$Kit = @{
    Organization = 'Fabrikam Old Servers'
    Release      = '2026.12.0'
}
$Agent = @{
    WorkspaceId   = '0f0e0d0c-0b0a-4988-8776-655443322110'
    CloudType     = 0
    ProxyUrl      = 'proxy.fabrikam.example:8080'
    ProxyUser     = 'FABRIKAM\svc-mma-proxy'
    Setup         = 'MMASetup-AMD64.exe'
    SetupSha256   = '36E782E39E08BCC51E5328976B51A745AF0D652A876ECF3C0BDB1427191D569E'
    LocalFolder   = 'C:\ProgramData\mdegen\mma'
    Folders       = @('C:\ProgramData\mdegen', 'C:\ProgramData\mdegen\mma')
    Log           = 'Install-MdeMma.log'
    KeyVariable   = 'MDE_MMA_WORKSPACE_KEY'
    KeyFile       = 'MdeWorkspaceKey.txt'
    PasswordVariable = 'MDE_PROXY_PASSWORD'
    PasswordFile  = 'MdeProxyPassword.txt'
    Service       = 'HealthService'
    ComClass      = 'AgentConfigManager.MgmtSvcCfg'
}
$Embedded = @{ Key = ''; Password = '' }
$Exit = @{
    CopyFailed = 81
    HashMismatch = 82
    ExtractFailed = 83
    NoKey = 84
    BadKey = 85
    NoPassword = 86
    ComFailed = 87
    UnsafeFolder = 88
}

$here = Split-Path -Parent $MyInvocation.MyCommand.Path

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
    foreach ($folder in $Agent.Folders) {
        Initialize-PrivateFolder -Path $folder
    }
}
catch {
    Write-Output ('mdegen''s work folder is not safe to use: {0}' -f $_.Exception.Message)
    exit $Exit.UnsafeFolder
}
$LogPath = Join-Path $Agent.LocalFolder $Agent.Log
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

function Read-Secret {
    # The value of the environment variable, else the first line of the file given, else of the
    # default file beside this script, else the embedded one; '' when none is there.
    param([string] $Variable, [string] $Given, [string] $DefaultName, [string] $Embedded)
    $value = [Environment]::GetEnvironmentVariable($Variable)
    if ($value) {
        Write-Line ('read from the environment variable {0}' -f $Variable)
        return $value.Trim()
    }
    $file = $Given
    if (-not $file) {
        $file = Join-Path $here $DefaultName
    }
    if (Test-Path -LiteralPath $file) {
        Write-Line ('read from {0}' -f $file)
        $line = @(Get-Content -LiteralPath $file)[0]
        if ($line) {
            return $line.Trim()
        }
    }
    if ($Embedded) {
        Write-Line 'using the value mdegen embedded in this script'
    }
    return $Embedded
}

function Read-Secrets {
    # The workspace key and, where a proxy user is configured, the proxy password; exits with
    # mdegen's code when one is missing or unusable. Neither is ever written to the log.
    $script:key = Read-Secret -Variable $Agent.KeyVariable -Given $WorkspaceKeyFile -DefaultName $Agent.KeyFile -Embedded $Embedded.Key
    if (-not $script:key) {
        Write-Line ('no workspace key: set {0}, pass -WorkspaceKeyFile, or place {1} beside this script' -f $Agent.KeyVariable, $Agent.KeyFile)
        exit $Exit.NoKey
    }
    if ($script:key -notmatch '^[A-Za-z0-9+/]{20,}={0,2}$') {
        Write-Line 'the workspace key is not a Base64 key as the portal shows it (letters, digits, + and /); check the source'
        exit $Exit.BadKey
    }
    $script:password = ''
    if ($Agent.ProxyUser) {
        $script:password = Read-Secret -Variable $Agent.PasswordVariable -Given $ProxyPasswordFile -DefaultName $Agent.PasswordFile -Embedded $Embedded.Password
        if (-not $script:password) {
            Write-Line ('no proxy password for {0}: set {1}, pass -ProxyPasswordFile, or place {2} beside this script' -f $Agent.ProxyUser, $Agent.PasswordVariable, $Agent.PasswordFile)
            exit $Exit.NoPassword
        }
        if ($script:password.Contains('"') -or $script:password.EndsWith('\')) {
            Write-Line 'the proxy password holds a double quote or ends with a backslash, which setup.exe cannot take'
            exit $Exit.NoPassword
        }
    }
}

$key = ''
$password = ''

# 1. An agent is installed: add the workspace to it, unless it reports there already.
if (Get-Service -Name $Agent.Service -ErrorAction SilentlyContinue) {
    try {
        $config = New-Object -ComObject $Agent.ComClass
        $present = @($config.GetCloudWorkspaces() | Where-Object { $_.workspaceId -eq $Agent.WorkspaceId })
    }
    catch {
        Write-Line ('the agent configuration object failed: {0}' -f $_.Exception.Message)
        exit $Exit.ComFailed
    }
    if ($present.Count -gt 0) {
        Write-Line ('the agent already reports to workspace {0}; nothing to change' -f $Agent.WorkspaceId)
        exit 0
    }
    Read-Secrets
    try {
        if ($Agent.CloudType -eq 0) {
            $config.AddCloudWorkspace($Agent.WorkspaceId, $key)
        }
        else {
            $config.AddCloudWorkspace($Agent.WorkspaceId, $key, $Agent.CloudType)
        }
        if ($Agent.ProxyUrl) {
            if ($config | Get-Member -Name 'SetProxyInfo') {
                $config.SetProxyInfo($Agent.ProxyUrl, $Agent.ProxyUser, $password)
                Write-Line ('set the agent''s proxy to {0}: it applies to every workspace of this agent' -f $Agent.ProxyUrl)
            }
            else {
                Write-Line 'this agent version has no SetProxyInfo: set the proxy in Control Panel > Microsoft Monitoring Agent > Proxy Settings'
            }
        }
        $config.ReloadConfiguration()
        Write-Line ('added workspace {0} to the installed agent; the other workspaces are unchanged' -f $Agent.WorkspaceId)
        exit 0
    }
    catch {
        Write-Line ('the agent configuration object failed: {0}' -f $_.Exception.Message)
        exit $Exit.ComFailed
    }
}

# 2. No agent: the secrets, then copy, check, extract, install.
Read-Secrets
$setup = Join-Path $Agent.LocalFolder $Agent.Setup
$extracted = Join-Path $Agent.LocalFolder 'setup'
try {
    Copy-Item -LiteralPath (Join-Path $here $Agent.Setup) -Destination $setup -Force
    if (Test-Path -LiteralPath $extracted) {
        Remove-Item -LiteralPath $extracted -Recurse -Force
    }
}
catch {
    Write-Line ('could not copy {0} to {1}: {2}' -f $Agent.Setup, $Agent.LocalFolder, $_.Exception.Message)
    exit $Exit.CopyFailed
}
try {
    # The FIPS-validated provider where .NET 3.5 has it (SHA256Managed refuses to run under the
    # FIPS policy, common in government estates), else the default one.
    try {
        $sha = New-Object System.Security.Cryptography.SHA256CryptoServiceProvider
    }
    catch {
        $sha = [System.Security.Cryptography.SHA256]::Create()
    }
    $stream = [System.IO.File]::OpenRead($setup)
    try {
        $bytes = $sha.ComputeHash($stream)
    }
    finally {
        $stream.Close()
    }
    $actual = [System.BitConverter]::ToString($bytes).Replace('-', '')
}
catch {
    Write-Line ('could not compute the SHA-256 of {0}: {1}' -f $setup, $_.Exception.Message)
    exit $Exit.HashMismatch
}
if ($actual -ne $Agent.SetupSha256) {
    Write-Line ('{0} has SHA-256 {1}, not {2} as mdegen recorded: copy the kit again' -f $Agent.Setup, $actual, $Agent.SetupSha256)
    exit $Exit.HashMismatch
}
$extract = Start-Process -FilePath $setup -ArgumentList ('/Q /C /T:"{0}"' -f $extracted) -Wait -PassThru
if ($extract.ExitCode -ne 0 -or -not (Test-Path -LiteralPath (Join-Path $extracted 'setup.exe'))) {
    Write-Line ('extracting {0} failed (exit code {1})' -f $Agent.Setup, $extract.ExitCode)
    exit $Exit.ExtractFailed
}
$properties = 'NOAPM=1 ADD_OPINSIGHTS_WORKSPACE=1 OPINSIGHTS_WORKSPACE_AZURE_CLOUD_TYPE={0} OPINSIGHTS_WORKSPACE_ID="{1}"' -f $Agent.CloudType, $Agent.WorkspaceId
if ($Agent.ProxyUrl) {
    $properties += (' OPINSIGHTS_PROXY_URL={0}' -f $Agent.ProxyUrl)
}
if ($Agent.ProxyUser) {
    $properties += (' OPINSIGHTS_PROXY_USERNAME="{0}"' -f $Agent.ProxyUser)
}
Write-Line ('running setup.exe /qn {0} OPINSIGHTS_WORKSPACE_KEY=(hidden){1} AcceptEndUserLicenseAgreement=1' -f $properties, $(if ($password) { ' OPINSIGHTS_PROXY_PASSWORD=(hidden)' } else { '' }))
$secrets = ' OPINSIGHTS_WORKSPACE_KEY="{0}"' -f $key
if ($password) {
    $secrets += (' OPINSIGHTS_PROXY_PASSWORD="{0}"' -f $password)
}
$install = Start-Process -FilePath (Join-Path $extracted 'setup.exe') -ArgumentList ('/qn ' + $properties + $secrets + ' AcceptEndUserLicenseAgreement=1') -Wait -PassThru
Write-Line ('setup.exe exited with {0}' -f $install.ExitCode)
exit $install.ExitCode
