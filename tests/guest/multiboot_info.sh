# The project's own Multiboot kernel, as ELF and as a.out kludge, checks
# what the Multiboot loader hands over: magic, memory, command line,
# modules with their arguments and contents, the memory map.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
need_cmd ld
asm multiboot_info -f bin -DAOUT
mv "$GUEST_BUILD/multiboot_info.bin" "$GUEST_BUILD/multiboot_aout.bin"
asm multiboot_info -f elf32
ld -m elf_i386 -Ttext=0x100000 -e start -o "$GUEST_BUILD/multiboot_elf" \
    "$GUEST_BUILD/multiboot_info.bin" || fail "ld"
printf 'first module text\n' > "$GUEST_BUILD/mod1.txt"
printf 'second module\n' > "$GUEST_BUILD/mod2.txt"
for kernel in multiboot_elf multiboot_aout.bin; do
    run_guest 30 -m 32 -kernel "$GUEST_BUILD/$kernel" -append "hello multiboot" \
        -initrd "$GUEST_BUILD/mod1.txt one two,$GUEST_BUILD/mod2.txt"
    expect_line "multiboot magic ok" "$ERR"
    expect_line "flags 0000024d" "$ERR"
    expect_line "mem_lower 0000027f" "$ERR"
    expect_line "cmdline hello multiboot" "$ERR"
    expect_line "mods 00000002" "$ERR"
    expect_line "mod $GUEST_BUILD/mod1.txt one two = first module text" "$ERR"
    expect_line "mod $GUEST_BUILD/mod2.txt = second module" "$ERR"
    expect_line "mmap entries 00000007" "$ERR"
    expect_status $EXIT_PASS
done
