; Boot entry: GRUB 2 jumps here in 32-bit protected mode (multiboot2). This code checks that it was
; loaded by a multiboot2 loader on a CPU with long mode, builds the boot page tables, enters long
; mode and calls kernel_main(magic, boot_info_phys) on the boot stack.
;
; Boot address space (4-level paging, built below):
;   [0, IDENTITY_SMALL_PAGES_END = 2 MiB)
;                         identity, 4 KiB pages; page 0 left unmapped so NULL faults
;   [2 MiB, IDENTITY_MAP_END = 32 MiB)
;                         identity, 2 MiB pages: the kernel image, its stacks and tables
;   [PHYS_MAP_BASE, +PHYS_MAP_SIZE = 8 GiB)
;                         all physical memory, 2 MiB pages, for page tables and boot info
; Nothing else is mapped: in particular not the heap range, which heap_init maps page by page.
; Every page is present, writable and executable here: memory_init then takes W from the code and
; read-only data and gives NX to everything else (W^X, kernel/lib/image_protection.h).

%include "machine.inc"                  ; shared numbers, from kernel/arch/x86_64/machine.bzl

MULTIBOOT2_ARCH_I386    equ 0

PAGE_PRESENT  equ 1 << 0
PAGE_WRITABLE equ 1 << 1
PAGE_HUGE     equ 1 << 7

%if IDENTITY_SMALL_PAGES_END != 512 * PAGE_SIZE
%error "IDENTITY_SMALL_PAGES_END must be what one page table of 4 KiB pages maps"
%endif
%if IDENTITY_MAP_END % (2 << 20) != 0 || IDENTITY_MAP_END > (1 << 30)
%error "IDENTITY_MAP_END must be a multiple of 2 MiB within the first page directory"
%endif
%if PHYS_MAP_SIZE % (1 << 30) != 0 || PHYS_MAP_BASE % (1 << 39) != 0
%error "PHYS_MAP_BASE and PHYS_MAP_SIZE must be whole PML4 and page-directory entries"
%endif
IDENTITY_2M_PAGES equ IDENTITY_MAP_END >> 21            ; [0, IDENTITY_MAP_END)
PHYS_MAP_PD_COUNT equ PHYS_MAP_SIZE >> 30               ; page directories of 1 GiB each
PHYS_MAP_PML4_INDEX equ (PHYS_MAP_BASE >> 39) & 511

KERNEL_STACK_SIZE equ 64 * 1024

section .multiboot2
align 8
multiboot2_header:
    dd BOOT_MULTIBOOT2_HEADER_MAGIC
    dd MULTIBOOT2_ARCH_I386
    dd multiboot2_header_end - multiboot2_header
    dd -(BOOT_MULTIBOOT2_HEADER_MAGIC + MULTIBOOT2_ARCH_I386 + (multiboot2_header_end - multiboot2_header))
    ; end tag
    dw 0
    dw 0
    dd 8
multiboot2_header_end:

section .boot.text progbits alloc exec
bits 32
global _start
_start:
    cli
    cld
    mov esp, kernel_stack_top
    mov edi, eax                        ; multiboot2 magic, first argument of kernel_main
    mov esi, ebx                        ; boot information, second argument

    cmp eax, BOOT_MULTIBOOT2_LOADER_MAGIC
    jne .not_multiboot2

    ; Long mode needs CPUID leaf 0x80000001 with the LM bit.
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    mov ebp, edx                        ; keep the feature bits for the NX check below

    call build_boot_page_tables

    mov eax, boot_pml4
    mov cr3, eax

    mov eax, cr4
    or eax, 1 << 5                      ; PAE
    mov cr4, eax

    mov ecx, CPU_MSR_EFER
    rdmsr
    or eax, 1 << 8                      ; LME: long mode
    test ebp, 1 << 20                   ; NX supported?
    jz .no_nx
    or eax, 1 << 11                     ; NXE: let page tables mark data no-execute
.no_nx:
    wrmsr

    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)       ; PG, WP (write protection applies to the kernel too)
    mov cr0, eax

    lgdt [boot_gdt_pointer]
    jmp GDT_KERNEL_CODE_SELECTOR:long_mode_entry

.not_multiboot2:
    mov esi, message_not_multiboot2
    jmp boot_fail
.no_long_mode:
    mov esi, message_no_long_mode
    jmp boot_fail

; Prints the NUL-terminated string at esi on COM1, then asks QEMU to exit with the failure code.
; Used only before long mode, when none of the C kernel can run.
boot_fail:
    mov dx, COM1_PORT
.next:
    lodsb
    test al, al
    jz .exit
    out dx, al
    jmp .next
.exit:
    mov dx, QEMU_DEBUG_EXIT_PORT
    mov al, QEMU_DEBUG_EXIT_FAILURE
    out dx, al
.halt:
    hlt
    jmp .halt

; Fills the boot page tables described at the top of this file. All tables live in .bss, which
; GRUB has zeroed, so only the present entries are written.
build_boot_page_tables:
    ; PML4 -> the low PDPT (identity) and the high PDPT (physical memory map)
    mov eax, boot_pdpt_low
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pml4], eax
    mov eax, boot_pdpt_phys_map
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pml4 + PHYS_MAP_PML4_INDEX * 8], eax

    ; identity: PDPT[0] -> PD; PD[0] -> PT with 4 KiB pages; PD[1..16) 2 MiB pages
    mov eax, boot_pd_low
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pdpt_low], eax
    mov eax, boot_pt_low
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pd_low], eax

    mov ecx, 1                          ; page 0 stays unmapped
.fill_pt:
    mov eax, ecx
    shl eax, 12
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pt_low + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .fill_pt

    mov ecx, 1
.fill_pd_low:
    mov eax, ecx
    shl eax, 21
    or eax, PAGE_PRESENT | PAGE_WRITABLE | PAGE_HUGE
    mov [boot_pd_low + ecx * 8], eax
    inc ecx
    cmp ecx, IDENTITY_2M_PAGES
    jb .fill_pd_low

    ; physical memory map: PDPT[j] -> PD j, each PD maps 1 GiB in 2 MiB pages
    xor ecx, ecx
.fill_pdpt_phys_map:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd_phys_map
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [boot_pdpt_phys_map + ecx * 8], eax
    inc ecx
    cmp ecx, PHYS_MAP_PD_COUNT
    jb .fill_pdpt_phys_map

    xor ecx, ecx                        ; ecx = 2 MiB page number across all PDs
.fill_pd_phys_map:
    mov eax, ecx
    shl eax, 21
    or eax, PAGE_PRESENT | PAGE_WRITABLE | PAGE_HUGE
    mov [boot_pd_phys_map + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                         ; bits 32 and up of the physical address
    mov [boot_pd_phys_map + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, PHYS_MAP_PD_COUNT * 512
    jb .fill_pd_phys_map
    ret

bits 64
extern kernel_main
long_mode_entry:
    mov ax, GDT_KERNEL_DATA_SELECTOR
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, kernel_stack_top
    xor rbp, rbp                        ; ends frame-pointer walks
    mov edi, edi                        ; upper halves are undefined after the mode switch
    mov esi, esi
    call kernel_main
.halt:
    cli
    hlt
    jmp .halt

section .rodata
message_not_multiboot2: db "boot: not loaded by a multiboot2 boot loader", 10, 0
message_no_long_mode:   db "boot: this CPU has no long mode (x86_64)", 10, 0

; Each descriptor is placed at its selector's offset (TIMES pads with null bytes up to it); a
; selector below the descriptor before it gives a negative count, which stops the assembly.
align 8
boot_gdt:
    dq 0
    times GDT_KERNEL_CODE_SELECTOR - ($ - boot_gdt) db 0
    dq GDT_KERNEL_CODE_DESCRIPTOR
    times GDT_KERNEL_DATA_SELECTOR - ($ - boot_gdt) db 0
    dq GDT_KERNEL_DATA_DESCRIPTOR
boot_gdt_end:
boot_gdt_pointer:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt

section .bss
align PAGE_SIZE
global boot_page_tables_start, boot_page_tables_end
boot_page_tables_start:
global boot_pml4
boot_pml4:          resb PAGE_SIZE
boot_pdpt_low:      resb PAGE_SIZE
global boot_pd_low
boot_pd_low:        resb PAGE_SIZE
global boot_pt_low
boot_pt_low:        resb PAGE_SIZE
boot_pdpt_phys_map: resb PAGE_SIZE
global boot_pd_phys_map
boot_pd_phys_map:   resb PAGE_SIZE * PHYS_MAP_PD_COUNT
boot_page_tables_end:

; One unmapped guard page below the kernel stack turns an overflow into a page fault.
align PAGE_SIZE
global kernel_stack_guard
kernel_stack_guard: resb PAGE_SIZE
global kernel_stack_bottom, kernel_stack_top
kernel_stack_bottom:
    resb KERNEL_STACK_SIZE
kernel_stack_top:
