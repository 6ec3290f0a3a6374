# Microsoft Defender for Endpoint: Defender Antivirus passive mode policy (ConfigMgr compliance discovery
# script, written by mdegen).
#
# Writes exactly one line: 'Compliant' when HKLM\SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection
# holds ForceDefenderPassiveMode = 1 (REG_DWORD: passive mode on, as this server is meant to run);
# otherwise one line that says what was found instead. The configuration item compares the output
# with 'Compliant'; anything else is reported as noncompliant, with this line as the actual value.
# A missing value is noncompliant: the policy is expected to be set explicitly, to 1 or to 0.
#
# The key is read in the 64-bit registry view whatever the bitness of the PowerShell host.
# Read-only: this script changes nothing.

$ErrorActionPreference = 'Stop'
$keyPath = 'SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection'
$valueName = 'ForceDefenderPassiveMode'
$expected = 1
$result = 'Unknown'
try {
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
    $key = $hklm.OpenSubKey($keyPath)
    if ($null -eq $key) {
        $result = 'Not set: the key HKLM\' + $keyPath + ' does not exist; expected ' + $valueName + ' = ' + $expected
    }
    else {
        $value = $key.GetValue($valueName)
        if ($null -eq $value) {
            $result = 'Not set: ' + $valueName + ' is missing; expected ' + $expected
        }
        elseif ($key.GetValueKind($valueName) -ne [Microsoft.Win32.RegistryValueKind]::DWord) {
            $result = 'Wrong type: ' + $valueName + ' is not a REG_DWORD; expected ' + $expected
        }
        elseif ([int] $value -eq $expected) {
            $result = 'Compliant'
        }
        else {
            $result = 'Wrong value: ' + $valueName + ' is ' + $value + '; expected ' + $expected
        }
        $key.Close()
    }
    $hklm.Close()
}
catch {
    $result = 'Error: ' + ($_.Exception.Message -replace '[\r\n]+', ' ')
}
Write-Output $result
