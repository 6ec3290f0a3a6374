<#
    FAKE mdegen stand-in for Microsoft's install.ps1 (unified agent helper for md4ws.msi), version 1.20000101.0.
    Not made by Microsoft and not signed by anyone: the signature block below is made-up bytes.
    It installs nothing: without MDEGEN_FAKE_PACKAGE=run it exits 99 at once.
#>
[CmdletBinding(DefaultParameterSetName = 'install')]
param(
    [Parameter(ParameterSetName = 'install')] [guid] $RemoveMMA,
    [Parameter(ParameterSetName = 'install')] [string] $OnboardingScript,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [string] $OffboardingScript,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [switch] $UI,
    [Parameter(ParameterSetName = 'install')] [switch] $Passive,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [switch] $NoMSILog,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [switch] $NoEtl,
    [Parameter(ParameterSetName = 'install')] [hashtable] $ExtraWebRequestOptions,
    [Parameter(ParameterSetName = 'install')] [switch] $DevMode,
    [Parameter(ParameterSetName = 'uninstall', Mandatory)] [switch] $Uninstall
)
if ($env:MDEGEN_FAKE_PACKAGE -ne 'run') {
    Write-Host 'FAKE mdegen install.ps1: refusing to run (set MDEGEN_FAKE_PACKAGE=run in a sandbox).'
    exit 99
}
Write-Host "FAKE mdegen install.ps1 would use $PSScriptRoot\md4ws.msi ($($PSCmdlet.ParameterSetName))."
exit 0

# SIG # Begin signature block
# RkFLRS1TSUdOQVRVUkUtQkxPQ0stbWRlZ2Vuc1Z59SYcq9bsAbC06PeeaBFR7Bfy
# QbfXKa7sP+tTQowzeh5/Z/7rLoCngAhAjj5Zu7wuRZkJjKMCFY8yfSKAJiB4xfer
# XyA7OGqi7WK7LNOPUcPdlZ19IJZBmoK0ZrKzQiN9l4fZN16WeMEhPxH0l1Jii8EE
# tvHgXqr1TTloLnKFl86+1151miyFkDljoKbGU28pZVqWTkN+VaOZ6+B4LXFcpAK1
# NmfzKM7p71yjipRU8x5hvNWcYT+soU10i9nSbU3JOZWYRV2Wl8hYrzeBOg4N/Dle
# swPI5t+FcWiOJBXlhkYgk/loKuShXGAuNehUzJ+v+zQvo8cIplpk9H3EarHx8DpW
# RBmxMJqisgD7YVfQ74tufl+Xw7pugUU5CapNMub0iT0xWHti0ZT+H8H5WIbKa/Xi
# 7hFYXkPcxUSdybmCnj56/s2zlO1TgjfDeapUmVZZUOUJxYXwjiIbtijDn1INK82H
# HigsrOmyeZ7dDUl+zudNDoQ/ElZQLC9EkPUhxtyouB1DX4i/ZxCX1PoRQlkx0/zU
# nA6SAYfcmkUcxtUCacv5Ab5ODDiWP3wD4AfWnV8yePhUDTxYWVxvOK7yW2n1iG0l
# 66rSiqA4wJTPJN6svJ0/1r+osCdmzUK8gvIZk4IP4A067ojt0MUpB3DtjJ3BdagW
# THucCZv2dxyv5pOLrw+3chwyv9LnEulXdjim1Mj16+a4IX7Mq94Af8n55mMArhYY
# CtvLGI9ozCaUCG/21zzXUFjPKGILwqQ4RnSdm4TZUKv/owQiPpSRjbmPV9ygvVQH
# falwzJcJSmGm6Xz2cVS+qSYPxeTr4wHHaxoDGIhNXQ1BgStXS/XxiwsoTzntYmmI
# 5pSimwpg9B0JCJ0ypbzlj7x2c58kigjpRERlGyUqKFxdcWxi0T2cFprnCUO9jpxC
# C4YuFUBY+jupZP1LYH/k46R20OkIYkVjPFrEEp5JHEAwhBeYN2uEEK7035zAnpZ0
# QCZ4upZwHC13H0z56u9DGsUiVfUFCKba3yyLBH5bBgAj6S7Sk3ZbmgwNJrvHc5u5
# yK89I6OTTo80ut9/gsjxbcqXIQrCYsE0AN8ClwiUS0et8baFk9m7OtfUNOnE4sjG
# yqUAhPzo3vapY/E69W8QdhZc6I2L2sZ27bVLgg3TPCGtCCVReBTTxdtgWbh26GAU
# L3R59bNVxpX5XVhqJ8J+QElBNKaZNDwn236+YdtYfFGT+v7CDNhypADN88Hb0tdq
# 63/p1ClF1jWSnNTJqfPqX7DkU0jxMXiGQkT2AUNjnEpUOCsFz3V/ShpRCMdvwv25
# EuQFd45HANS0xvmDiBzdZPoPEHW+k7lvFLKO80hSNymcIDLtJusnQiSOL0Qhnor6
# NUjeQHBFGxwrlLpiwoF763Z61ZU9PRoTrVezXH4m8XboYf5Q82RaIXIxklVlqVNw
# cVKs9SR7wfAZQPFIwBbhTwxK90A68UrWbI+o5iWboBhxfQRHF5UE2o8mzbV5oDrm
# 7fA7epUKoh8od1e+dmEUvpQBg0zsnTAEeJQ2GiW6vE8vPBGfkVXD9+MlWc9Hv2Gy
# rQ7qp3LGtH0rzgrQ/3pl7OstEltXpSjIapHSjaadiBb5ZTkr08Rwk8PPtZKTyfuh
# wkOiWB08/qjgrRdvJi2KPyeMXc5wbKu/pjSr8UeOXM/3WBPA5Xpndw2paTra+RbI
# 5OJ5ivAMN3dS96DDf00YtAQ8ypvBsw2sidJ0TSXGIz0lQCJ9FqpgjlaGWjL5aypr
# SfIzZnoF/Z80o4j2dOqBLMWhLixt5U3YRQLrdfucv9g3Wun/kKr7HeTtoWJvq/78
# uSzeC1ldHt9Tscy70jE5xI+ED/KPhybD1II4DhsZ3qWR2DFfSsKuDlmVTUNw9p8F
# sX7Kq/7g0jtIICphwHufnjrCwAvAz/tamLjRGjVI0SEGk1OTRN6+GTzTZOvfi6eB
# kb54hnLCaUxUztVOLZfPyxf25iOIqTZNxSJC9h2B7AQOLP2AkwHWkeBIqAH8ejdO
# Hz9S9vX9ipF1eqqyT2gsR4QnoYBQcDoffdxB5N/AXWUxR30dN7afoHzmSTA+Fct5
# gGO7z14zuFNDVGbeSGXJWk6WgncNrf/0r/ys9lA5kloEwJzIOV2mBHHRfUuV74SF
# i95zf0zqCpVgy6XODLnNy2SzeWW9yUHyOzzHydeeHtCu1Ul/GITH/jZ4NY9ka2Ew
# aMiJKy2tK52ZkA0bTlxnneQD9xyzTYQ6SjNjYDQ9U+/msW4n5Q/97NMRVk2oDOSD
# v+OPDOlymgo56wmVQIzAbvl9PzxJX8uV4/LlfCDOWtEd6DaojqUuyBNaoeIVg2dW
# gWd0IxbLzc2V8xmJJtAM1oN8sdaQKlK0Eyd38eB6QQchiehXFwmUl9QNmKRocdAc
# yyqoxhuUPZpupGDjyjaWmryLRphByqwrq1KQCm6fvUUbMtSo1a98aJaGeqfsDNSd
# s4hYHCPO0+rsIPFtK0XL2GIpMSRYVEjsN6GEWWbVY7xxLnr1sSGcW8tlRy100UrA
# b5F5Rfkv4OcgMK3zPDFghDpzaNjwhR4bX03CG9IFxbxtYwd96cQNPkDpkaEF4PDT
# qhp/WefHwOq+Vxfjclj0/LW8lTs1dwxq/jp0SzxaTmUhnpDskz3b55EZwvxwFUvu
# orrgmXCcK4+KFg/NWarwgB1DAuu/LKfA6pdxnk/oFr3n/tnWuC6dUAmfAmJlfEuM
# +e1irAckzUTHfK62yaMt2zEQNNjek0fXOl/9bOhLtxZ1dQ1bYNdubV6URdVzo8Z6
# 7oZNZGcCY9Jq2z67X9dHM/up25D1gmRDQ+YkdaoE6MmJzUpymQFTu8dZp+f05R/h
# bvBbb7J5eDBcPgMb6Dod2gxtuUhHRSWiD9zVqEdahaq9xn9lXjNB5AwG38RNCjB4
# ptzSBU360SEf6olMKPbOANJP291V1pjoYDEHJCTAugkIzNHGhVpHWZrDTEZsmtrt
# JYFNtdnijttHu8K5MZWHJznA0GJjJ6SUqDc2MWSQLMQntxng1ED3TTLZecMC5vvp
# YLoFLKwRoPQoHh8FBJfw0gMSj00i/0n5tJfRGSPsgaaB+HgvNzc0oP1v1rikvd+5
# YUo/1bSlEh/BcHJmOAoyMCUte6gyQpFEcMLQ5xuCIWXvcYHRn0WcKyboc6ZrHNen
# Jy+Xm8CynJU+eFAUyivRl2FsMjIu7/yZP8awowknADBbCi4c4DXoa1LAg7k4FYLG
# Y4L667iz13+SlF+F+ueVr+d2F39Wl9Ivp0yfShS7bAOD6WmRyVNPMCjE14iH8dOk
# c6GKHB3rRxyg65fIZXD47IXQAObKNtY6DPQbLAc8RHoTPqRiUm9LMrt6e2V+YdGj
# gsSK4l+0WpS5o+oYPS0F3YwZ2pVK/BClorDSnKY73GlrQ57U7S3M6y9I1csaXcVR
# 2EvZcE/BO5OnnuLYsz6GQrUnemT2evmtLtA5ZT3qFiFrXsgQGpR1ZZz3gSuJGhic
# 5MW/l6KYkZXXkGeF+RrKk+kOCqfs3nGsvKsgz+QVRww0uSa1w158Fn5pj0qb5Ig/
# ztIrjeRFJYz6FapmaLMvrDg97w0iSMKJMRCi+oDQ8OQVDIPEbn7ae6C0UPzWkevX
# /O5PkR+0ZJsnlXPu6eYLZJF/pgy+k8LkHJGlanWggFqmdjoGvCFAWI9QM1dAzun3
# 6QMXm7Ges7ETDb25DwkXmtaL3NmzKpJmn48Ix/adYnPoZFQzQBozW7xgwF2leYfR
# 8U7oB2JwGIFRldxaImGloKVW5JKVXx6Xzz3NGwQhwiEeFbH8urdlMHo0vRsMfyFo
# nIA+9bHil0Rfi6EmGxgYkOM39mU9azkeXvNZ/qe2sZqxnEtulXthA6lujL8aVttq
# 45zgfolWCoxuFeFPu7meNNJ5GRJSU8AvImGqdX8RSh0ZTmUlfnLN5zkCKRDIGqKv
# RRLleiB0BQc9qjZzeLznss87KPo99O+s8wpzWtGGqWmefsARg66S3BYr8a0shAL9
# wAu7MjdjUTGAAUCJxtT1fG73vYIVN8ZLNTFyhPEgccs77b2Vv8xkDvOzWgI3dp/E
# 0P1LqSu9+hX2L4lybNaXGk+bLWApLmtA5wvVT/SmWYDeUt1nlGjs0mOsEfDwbI9D
# ZgjU45GjnewsoGKJZRGJkjHW/Tp1yK0magkUD/EBYgDfxkpTX0cvgH+NAXYG4+dU
# AoVCP7ThhfAI/qGBmNVNCFxUajsSFwl4jiSh+pcweLuoEaHNyAjk51Pf02WW7wpC
# 7vUu01wVbM31pJGKBmhM8F0+ZQYXkcJTdOgj9YRRh797NdLLNVW7i4VZCI7kG/g6
# jwu/OtyqI81wET0MgVRAk79+syKW209avQAhfW/PL51Gupl31DsppTdDfVxoxFhy
# e9x2CV1oEz47Jc7aeBXkiTHDHNI9H9UK+DsoIXWuSF5WR+4ZaLtgYmyUyLdMkYJt
# nwKcm+Dek5JQNAmm/XDD4M6NxhQX6/UzSQw0P5+Hc+ZvpBG2cn82x1arWcUH2nCU
# i8Xy3MI42u4aHAZDmS6ILR2yXN2sjCU+UOoHf2oaOye8H/OvJ5YTw4OHRe22+/2k
# L1k4zgt4YCnzy3ld8cHIlDmmC/AAEQc+GRKTLwlznL/n0C1/+M97VVHrk84PEc9z
# Haur+8JjGYP1GduklzR6oNfhQ3nJeot3QbQDtNznmapX1v0CcYw4tsPCGa7ZMwT0
# RdoX+zq8AsiN6ZqHSVboxhX163qX/YaxkUL/+oi/GWRcpM/EKeprMjwz6vA5t9NT
# ksg+Xk5SZeZ3wQh4OrRo7PtceUTVF3C2J9j1YPtsce8Hk/JqQEkLT/lpx6J+ZeSF
# F2N+8hLJ7iUB/qM4c4Bqd78hWCa0Pkxj8JpknHhkii1k+UnOu+90MZlGeOOlag2r
# YYf7fN6sLT2tP33GnUTaVHzwTL+Lo8V8ZB10Ozl/3QXMxUL8GVQXZkURYZFVT/8W
# R2soddG2suOTYjc2t4v+zofImDdjozysCnyXpqPGqKyRy45eDxsnLuUjr1zHIC8J
# E4JV8E5kVWQY3tGkRtL8r4Qc8cZtNPILLtwcOBTG40LjBlA7ftfzutlYIlZ5z21I
# PaOk+ybbrJNQ+xWneJJvpcZRKBDBYMr4+5pcyRGefNmOEpgqukyZtxKu5Ovrkk6C
# nPqvCfUtJVEfidQ54U/UMGO4b9G3JOfW3i/MfkF0e/OpphRpscfv0hX6Wea0z9d+
# ZlnOiy0R9zZyCaXy7zh/SMt3GZeeG/gKfQW7GMONBppWUS0l3esFNOKKSL6SToU1
# t61HLdPRHZj931RD46rV9IqbQq0mJ6sPUbO4fFV2HDcBiIQZLIZIHusHsw==
# SIG # End signature block
