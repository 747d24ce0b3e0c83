"""The battery's figures, pure: calibrated millivolts and the low flag with hysteresis.

mv(): the ADC's eFuse-calibrated reading (read_uv()) times the divider (board.json
`battery_divider`), then the unit's own `battery_cal` [gain, offset_mv] from the config (a
technician's multimeter reading; docs/firmware.md, "Battery"). low(): below `low_battery_mv`
is low; once low it clears only above low_battery_mv + 100 mV, so a cell hovering at the
limit does not toggle the warning.
"""


def mv(uv, divider, cal=None):
    m = uv * divider / 1000
    if cal:
        m = m * cal[0] + cal[1]
    return int(m)


def low(mv, was_low, limit_mv):
    return mv < limit_mv + 100 if was_low else mv < limit_mv
