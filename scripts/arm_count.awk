# Executed instructions and FMLAs of a qemu-user log written with `-d in_asm,exec,nochain`
# (scripts/arm_instructions.sh, scripts/arm_peer_instructions.sh). in_asm prints each
# translation block once (its guest address and instructions); exec prints a "Trace" line each
# time a block runs (nochain: every run is logged). The sum over executions of the block's
# instruction count is the executed instruction count. Prints "instructions fmla".
/^IN:/ { inblock = 1; pc = ""; n = 0; f = 0; next }
inblock && /^0x[0-9a-f]+:/ {
    if (pc == "") { pc = substr($1, 3, length($1) - 3); sub(/^0+/, "", pc) }
    n++; if ($3 == "fmla") f++; next
}
inblock && pc != "" { size[pc] = n; fmla[pc] = f; inblock = 0 }
/^Trace / {
    split($0, a, "/"); pc = a[2]; sub(/^0+/, "", pc)
    total += size[pc]; fmlas += fmla[pc]
}
END { printf "%.0f %.0f\n", total, fmlas }
