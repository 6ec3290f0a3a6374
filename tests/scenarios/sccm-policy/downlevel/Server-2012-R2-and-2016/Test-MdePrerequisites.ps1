#Requires -Version 2.0
<#
.SYNOPSIS
    Checks that this server is ready for its Defender for Endpoint agent, one line per check,
    and writes the results as JSON.

.DESCRIPTION
    Written by mdegen. Checks, for this server's build and the target's agent: the operating
    system and architecture, the updates the agent needs (by file version where an update can be
    superseded, else by installed hotfix), the .NET Framework, TLS 1.2, a pending restart, a
    DisableAntiSpyware policy, and connectivity to the Defender endpoints through the configured
    proxy. It changes nothing.

    Each line reads PASS, WARN or FAIL. Exit code 0: no FAIL (WARN: the agent may fix it, or it
    could not be told); 1: at least one FAIL; 2: this server's build is none of the target's.

.PARAMETER OutFile
    Where the JSON goes; by default prerequisites-<computer>.json in %ProgramData%\mdegen when
    run elevated (a folder for SYSTEM and Administrators only), else in %TEMP%.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Test-MdePrerequisites.ps1
#>
[CmdletBinding()]
param([string] $OutFile = '')

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
    Organization = 'Northwind Traders'
    Release      = '2026.12.1'
    Target       = 'Server 2012 R2 and 2016'
    Agent        = 'unified'
    Proxy        = ''
}
# Per build: what this agent needs there.
$Builds = @(
    @{
        Build          = '9600'
        Name           = 'Windows Server 2012 R2'
        NeedsX64       = $true
        DotNetRelease  = 0
        DotNet35       = $false
        Tls12Explicit  = $false
        StrongCrypto   = $false
        AntiSpywareFails = $true
        Hotfixes       = @(
        )
        FileVersions   = @(
            @{ Path = '%SystemRoot%\System32\ucrtbase.dll'; Minimum = '0.0.0.0'; Why = 'Universal C Runtime (KB2999226)' }
            @{ Path = '%SystemRoot%\System32\tdh.dll'; Minimum = '6.3.9600.17958'; Why = 'telemetry update (KB3080149)' }
            @{ Path = '%SystemRoot%\System32\ntoskrnl.exe'; Minimum = '6.3.9600.17736'; Why = 'kernel update (KB3045999)' }
        )
    }
    @{
        Build          = '14393'
        Name           = 'Windows Server 2016'
        NeedsX64       = $true
        DotNetRelease  = 0
        DotNet35       = $false
        Tls12Explicit  = $false
        StrongCrypto   = $false
        AntiSpywareFails = $true
        Hotfixes       = @(
        )
        FileVersions   = @(
            @{ Path = 'service:WinDefend'; Minimum = '4.10.14393.2515'; Why = 'Defender Antivirus platform 4.10.14393.2515 or later' }
        )
    }
)
$Urls = @(
    'https://winatp-gw-weu.microsoft.com/'
    'https://go.microsoft.com/'
)
# Registry facts (below HKLM).
$Facts = @{
    NetFull        = 'SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full'
    Net35          = 'SOFTWARE\Microsoft\NET Framework Setup\NDP\v3.5'
    Tls12Client    = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client'
    NetStrong      = @('SOFTWARE\Microsoft\.NETFramework\v4.0.30319', 'SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319')
    DefenderPolicy = 'SOFTWARE\Policies\Microsoft\Windows Defender'
    AntiSpyware    = 'DisableAntiSpyware'
    RebootKeys     = @('SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending', 'SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')
    SessionManager = 'SYSTEM\CurrentControlSet\Control\Session Manager'
    InstallMarkerKey = 'SOFTWARE\Microsoft\Microsoft Defender for Endpoint Install'
    InstallMarkerValue = 'PendingReboot'
    ServicesKey    = 'SYSTEM\CurrentControlSet\Services'
    ResultsFolder  = 'C:\ProgramData\mdegen'
}

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

$Results = New-Object System.Collections.ArrayList

function Add-Check {
    param([string] $Name, [string] $Result, [string] $Detail)
    [void] $Results.Add(@{ name = $Name; result = $Result; detail = $Detail })
    Write-Output ('{0,-4}  {1}: {2}' -f $Result, $Name, $Detail)
}

function Get-Value {
    # A registry value below HKLM, or $null when the key or the value is absent.
    param([string] $Key, [string] $Name)
    $item = Get-ItemProperty -Path ('HKLM:\' + $Key) -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $null
    }
    return $item.$Name
}

function ConvertTo-JsonText {
    # PowerShell 2.0 has no ConvertTo-Json: strings and flat hashtables of strings are all it writes.
    param($Value)
    if ($Value -is [System.Collections.IDictionary]) {
        $pairs = @()
        foreach ($k in @($Value.Keys | Sort-Object)) {
            $pairs += ('{0}:{1}' -f (ConvertTo-JsonText ([string] $k)), (ConvertTo-JsonText $Value[$k]))
        }
        return '{' + ($pairs -join ',') + '}'
    }
    if ($Value -is [System.Collections.IList]) {
        return '[' + ((@($Value) | ForEach-Object { ConvertTo-JsonText $_ }) -join ',') + ']'
    }
    $text = [string] $Value
    $out = New-Object System.Text.StringBuilder
    foreach ($ch in $text.ToCharArray()) {
        $code = [int] $ch
        if ($ch -eq '"' -or $ch -eq '\') {
            [void] $out.Append('\').Append($ch)
        }
        elseif ($code -lt 32) {
            [void] $out.Append(('\u{0:x4}' -f $code))
        }
        else {
            [void] $out.Append($ch)
        }
    }
    return '"' + $out.ToString() + '"'
}

# Operating system and architecture.
$os = Get-WmiObject -Class Win32_OperatingSystem
$row = $null
foreach ($b in $Builds) {
    if ($b.Build -eq [string] $os.BuildNumber) {
        $row = $b
    }
}
if ($null -eq $row -or $os.ProductType -eq 1) {
    Add-Check -Name 'operating system' -Result 'FAIL' -Detail ('{0} (build {1}, product type {2}) is none of target {3}''s servers' -f $os.Caption, $os.BuildNumber, $os.ProductType, $Kit.Target)
    $exitCode = 2
}
else {
    Add-Check -Name 'operating system' -Result 'PASS' -Detail ('{0}, build {1}' -f $os.Caption, $os.BuildNumber)
    $exitCode = 0
    $x64 = ($env:PROCESSOR_ARCHITECTURE -eq 'AMD64') -or ($env:PROCESSOR_ARCHITEW6432 -eq 'AMD64')
    if ($row.NeedsX64 -and -not $x64) {
        Add-Check -Name 'architecture' -Result 'FAIL' -Detail 'the agent needs 64-bit Windows'
    }
    else {
        Add-Check -Name 'architecture' -Result 'PASS' -Detail $env:PROCESSOR_ARCHITECTURE
    }

    # Updates: by file version where one can be superseded, else by installed hotfix.
    foreach ($f in $row.FileVersions) {
        if ($f.Path.StartsWith('service:')) {
            # The program a service runs (platform updates move Defender's engine to new folders).
            $image = Get-Value -Key ($Facts.ServicesKey + '\' + $f.Path.Substring(8)) -Name 'ImagePath'
            $path = ''
            if ($image) {
                $path = [Environment]::ExpandEnvironmentVariables(([string] $image).Trim())
                if ($path.StartsWith('"')) {
                    $path = $path.Substring(1, $path.IndexOf('"', 1) - 1)
                }
            }
        }
        else {
            $path = [Environment]::ExpandEnvironmentVariables($f.Path)
        }
        if (-not $path) {
            Add-Check -Name $f.Why -Result 'WARN' -Detail ('{0} is not installed; the agent installs it if it can reach Windows Update' -f $f.Path)
            continue
        }
        if (-not (Test-Path -LiteralPath $path)) {
            Add-Check -Name $f.Why -Result 'WARN' -Detail ('{0} is missing; the agent installs the update if it can reach Windows Update' -f $path)
            continue
        }
        $version = (Get-Item -LiteralPath $path).VersionInfo
        $have = New-Object System.Version($version.FileMajorPart, $version.FileMinorPart, $version.FileBuildPart, $version.FilePrivatePart)
        if ($have -ge [version] $f.Minimum) {
            Add-Check -Name $f.Why -Result 'PASS' -Detail ('{0} {1}' -f $path, $have)
        }
        else {
            Add-Check -Name $f.Why -Result 'WARN' -Detail ('{0} is {1}, older than {2}; the agent installs the update if it can reach Windows Update' -f $path, $have, $f.Minimum)
        }
    }
    foreach ($h in $row.Hotfixes) {
        if (Get-HotFix -Id $h.Id -ErrorAction SilentlyContinue) {
            Add-Check -Name $h.Why -Result 'PASS' -Detail ('{0} is installed' -f $h.Id)
        }
        elseif ($h.Required) {
            Add-Check -Name $h.Why -Result 'WARN' -Detail ('{0} is not installed: install it or check that a later update replaced it' -f $h.Id)
        }
        else {
            Add-Check -Name $h.Why -Result 'WARN' -Detail ('{0} is not installed (recommended)' -f $h.Id)
        }
    }

    # .NET Framework.
    if ($row.DotNetRelease -gt 0) {
        $release = Get-Value -Key $Facts.NetFull -Name 'Release'
        if ($null -ne $release -and [int] $release -ge $row.DotNetRelease) {
            Add-Check -Name '.NET Framework 4' -Result 'PASS' -Detail ('release {0}' -f $release)
        }
        else {
            Add-Check -Name '.NET Framework 4' -Result 'FAIL' -Detail ('release {0} found; {1} or later is needed' -f $release, $row.DotNetRelease)
        }
    }
    if ($row.DotNet35) {
        if ((Get-Value -Key $Facts.Net35 -Name 'Install') -eq 1) {
            Add-Check -Name '.NET Framework 3.5' -Result 'PASS' -Detail 'installed'
        }
        else {
            Add-Check -Name '.NET Framework 3.5' -Result 'FAIL' -Detail 'not installed (Server Manager > Features > .NET Framework 3.5.1)'
        }
    }

    # TLS 1.2.
    $enabled = Get-Value -Key $Facts.Tls12Client -Name 'Enabled'
    $disabledByDefault = Get-Value -Key $Facts.Tls12Client -Name 'DisabledByDefault'
    if ($enabled -eq 0 -or $disabledByDefault -eq 1 -or ($row.Tls12Explicit -and ($enabled -ne 1 -or $disabledByDefault -ne 0))) {
        Add-Check -Name 'TLS 1.2' -Result 'FAIL' -Detail ('SCHANNEL TLS 1.2 Client: Enabled={0}, DisabledByDefault={1}; set 1 and 0 and restart' -f $enabled, $disabledByDefault)
    }
    else {
        Add-Check -Name 'TLS 1.2' -Result 'PASS' -Detail 'the SCHANNEL client protocol is on'
    }
    if ($row.StrongCrypto) {
        foreach ($k in $Facts.NetStrong) {
            if ((Get-Value -Key $k -Name 'SchUseStrongCrypto') -eq 1) {
                Add-Check -Name 'TLS 1.2 for .NET' -Result 'PASS' -Detail ('{0} SchUseStrongCrypto=1' -f $k)
            }
            else {
                Add-Check -Name 'TLS 1.2 for .NET' -Result 'WARN' -Detail ('{0} SchUseStrongCrypto is not 1; set it and restart' -f $k)
            }
        }
    }

    # A pending restart.
    $pending = @()
    foreach ($k in $Facts.RebootKeys) {
        if (Test-Path -LiteralPath ('HKLM:\' + $k)) {
            $pending += $k
        }
    }
    if (Get-Value -Key $Facts.SessionManager -Name 'PendingFileRenameOperations') {
        $pending += 'PendingFileRenameOperations'
    }
    if ($null -ne (Get-Value -Key $Facts.InstallMarkerKey -Name $Facts.InstallMarkerValue)) {
        $pending += ('install.ps1 {0}' -f $Facts.InstallMarkerValue)
    }
    if ($pending.Count -gt 0) {
        Add-Check -Name 'pending restart' -Result 'FAIL' -Detail ('restart the server first ({0})' -f ($pending -join ', '))
    }
    else {
        Add-Check -Name 'pending restart' -Result 'PASS' -Detail 'none'
    }

    # A policy that turns Defender Antivirus off.
    if ((Get-Value -Key $Facts.DefenderPolicy -Name $Facts.AntiSpyware) -eq 1) {
        $result = 'WARN'
        if ($row.AntiSpywareFails) {
            $result = 'FAIL'
        }
        Add-Check -Name 'Defender Antivirus policy' -Result $result -Detail ('{0}=1 turns Defender Antivirus off; remove the policy' -f $Facts.AntiSpyware)
    }
    else {
        Add-Check -Name 'Defender Antivirus policy' -Result 'PASS' -Detail ('no {0} policy' -f $Facts.AntiSpyware)
    }
}

# Connectivity, through the configured proxy: any HTTP answer counts as reachable.
try {
    [Net.ServicePointManager]::SecurityProtocol = [Enum]::ToObject([Net.SecurityProtocolType], 3072)
}
catch {
    Add-Check -Name 'connectivity' -Result 'WARN' -Detail '.NET cannot use TLS 1.2 here (install the .NET TLS 1.2 update); the tests below may fail for that reason'
}
foreach ($url in $Urls) {
    $request = [System.Net.WebRequest]::Create($url)
    $request.Timeout = 15000
    if ($Kit.Proxy) {
        $request.Proxy = New-Object System.Net.WebProxy($Kit.Proxy)
        $request.Proxy.Credentials = [System.Net.CredentialCache]::DefaultNetworkCredentials
    }
    try {
        $response = $request.GetResponse()
        Add-Check -Name 'connectivity' -Result 'PASS' -Detail ('{0}: HTTP {1}' -f $url, [int] $response.StatusCode)
        $response.Close()
    }
    catch [System.Net.WebException] {
        if ($null -ne $_.Exception.Response -and [int] $_.Exception.Response.StatusCode -eq 407) {
            Add-Check -Name 'connectivity' -Result 'FAIL' -Detail ('{0}: the proxy asks for credentials the computer account does not have (HTTP 407)' -f $url)
        }
        elseif ($null -ne $_.Exception.Response) {
            # Any other answer: the server (or a proxy's own page) was reached; a proxy that blocks
            # with a page of its own passes here too, so read the detail.
            Add-Check -Name 'connectivity' -Result 'PASS' -Detail ('{0}: HTTP {1} (reachable)' -f $url, [int] $_.Exception.Response.StatusCode)
        }
        else {
            Add-Check -Name 'connectivity' -Result 'FAIL' -Detail ('{0}: {1}' -f $url, $_.Exception.Message)
        }
    }
    catch {
        Add-Check -Name 'connectivity' -Result 'FAIL' -Detail ('{0}: {1}' -f $url, $_.Exception.Message)
    }
}

$failed = @($Results | Where-Object { $_.result -eq 'FAIL' })
if ($exitCode -eq 0 -and $failed.Count -gt 0) {
    $exitCode = 1
}
$overall = 'pass'
if ($failed.Count -gt 0) {
    $overall = 'fail'
}
elseif (@($Results | Where-Object { $_.result -eq 'WARN' }).Count -gt 0) {
    $overall = 'warn'
}
if ($OutFile) {
    $OutFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
}
else {
    # Elevated (or SYSTEM): mdegen's folder under %ProgramData%, created for SYSTEM and
    # Administrators only; otherwise the user's own temporary folder.
    $folder = $env:TEMP
    $principal = New-Object System.Security.Principal.WindowsPrincipal([System.Security.Principal.WindowsIdentity]::GetCurrent())
    if ($principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
        try {
            Initialize-PrivateFolder -Path $Facts.ResultsFolder
            $folder = $Facts.ResultsFolder
        }
        catch {
            Write-Output ('{0}; writing to {1} instead' -f $_.Exception.Message, $folder)
        }
    }
    $OutFile = Join-Path $folder ('prerequisites-{0}.json' -f $env:COMPUTERNAME)
}
$document = @{
    computer = $env:COMPUTERNAME
    checkedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    organization = $Kit.Organization
    release = $Kit.Release
    target = $Kit.Target
    agent = $Kit.Agent
    build = [string] $os.BuildNumber
    result = $overall
}
$checks = @($Results | ForEach-Object { ConvertTo-JsonText $_ }) -join ','
$json = (ConvertTo-JsonText $document).TrimEnd('}') + ',"checks":[' + $checks + ']}'
[System.IO.File]::WriteAllText($OutFile, $json, (New-Object System.Text.UTF8Encoding($false)))
Write-Output ('Result: {0}; written to {1}' -f $overall, $OutFile)
exit $exitCode
