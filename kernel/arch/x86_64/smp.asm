; Thread context switch and the application processors' start-up trampoline.

%include "machine.inc"                  ; shared numbers, from kernel/arch/x86_64/machine.bzl

bits 64
section .text

; void context_switch(uint64_t *save_rsp, uint64_t load_rsp)
; Saves the callee-saved registers on the current stack and its pointer in *save_rsp, then
; switches to the stack at load_rsp and pops the same frame from it (kernel/thread.c).
global context_switch
context_switch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; A new thread's first return address: r12 holds its control block (thread.c: thread_alloc).
global thread_bootstrap
extern thread_start
thread_bootstrap:
    mov rdi, r12
    xor ebp, ebp                        ; ends frame-pointer walks
    and rsp, -16
    call thread_start
    ud2                                 ; thread_start never returns

; Start-up trampoline. smp.c copies [trampoline_start, trampoline_end) to TRAMPOLINE_PHYS (a page
; below 1 MiB, identity-mapped by the kernel's page tables) and fills in the parameters at the
; end. A start-up IPI starts the CPU in real mode at TRAMPOLINE_PHYS with CS = TRAMPOLINE_PHYS >>
; 4 and IP = 0; the code below is written for that and only runs from the copy.
;
; Each mode loads a table for its faults before any of its instructions that can fault, so that no
; fault here ends in a triple fault (under QEMU, a reset of the whole machine) or goes through
; whatever vector table lies at address 0: the real-mode code its own interrupt vector table, the
; 32-bit code its own IDT, whose stubs write the report at the end (the mode, the vector, the error
; code) and halt the CPU, for smp.c to read when the CPU does not come up; the 64-bit code the
; kernel's IDT. Only the few instructions between a mode switch and the new mode's table (the far
; jump after each switch, and in long mode the read of the IDT's address) run under the previous
; mode's table, which the new mode reads as garbage; they fault only if the GDT or the page tables
; the boot CPU handed over are wrong.
%define TRAMPOLINE(label) (TRAMPOLINE_PHYS + (label) - trampoline_start)
; The same address as an offset in the real-mode segment (CS = DS = SS = TRAMPOLINE_PHYS >> 4).
%define TRAMPOLINE16(label) ((label) - trampoline_start)

; Entries 1 and 2 are those of every GDT of the kernel: the selectors mean the same once the
; trampoline has loaded the CPU's own GDT, so CS need not be reloaded then.
TRAMPOLINE_CODE64 equ GDT_KERNEL_CODE_SELECTOR
TRAMPOLINE_DATA64 equ GDT_KERNEL_DATA_SELECTOR
TRAMPOLINE_CODE32 equ 0x18
TRAMPOLINE_DATA32 equ 0x20

; The CPU exceptions (vectors 0..31) each table covers; the rest cannot come with interrupts off.
TRAMPOLINE_EXCEPTIONS equ 32

; Whether the CPU pushes an error code for a protected-mode exception (the SDM's table 6-1).
%define EXCEPTION_HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .rodata
align 16
global trampoline_start, trampoline_end
global trampoline_cr3, trampoline_efer, trampoline_stack, trampoline_entry, trampoline_argument
global trampoline_idt, trampoline_cpu_gdt, trampoline_fault_stack, trampoline_test_fault
global trampoline_fault_mode, trampoline_fault_vector, trampoline_fault_error_code
bits 16
trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    mov ss, ax                          ; a fault's frame goes on the trampoline's own stack
    mov sp, TRAMPOLINE16(trampoline_early_stack_top)
    o32 lidt [TRAMPOLINE16(trampoline_ivt_pointer)]
    cmp dword [TRAMPOLINE16(trampoline_test_fault)], TRAMPOLINE_FAULT_16BIT
    jne .no_fault
    ud2                                 ; smp_test=ap_real_mode_fault (smp.c)
.no_fault:
    o32 lgdt [TRAMPOLINE16(trampoline_gdt_pointer)]
    mov eax, cr0
    or eax, 1                           ; PE: protected mode
    mov cr0, eax
    jmp dword TRAMPOLINE_CODE32:TRAMPOLINE(trampoline_protected)

; Real-mode exception stubs: entry N of the interrupt vector table reaches stub N, which hands its
; vector on in AL. The report goes through CS, the one segment a fault cannot have left changed.
%assign vector 0
%rep TRAMPOLINE_EXCEPTIONS
trampoline_real_stub_%[vector]:
    mov al, vector
    jmp trampoline_real_fault
%assign vector vector + 1
%endrep

; Writes the report (the first fault only: an NMI may still wake the halted CPU) and halts.
trampoline_real_fault:
    movzx eax, al
    cmp dword [cs:TRAMPOLINE16(trampoline_fault_mode)], 0
    jne .halt
    mov [cs:TRAMPOLINE16(trampoline_fault_vector)], eax
    mov dword [cs:TRAMPOLINE16(trampoline_fault_mode)], TRAMPOLINE_FAULT_16BIT ; last: smp.c reads it first
.halt:
    cli
    hlt
    jmp .halt

; Protected mode. The IDT first, read through CS (flat) since DS and SS still hold their real-mode
; segments: a fault pushes its frame on SS:SP, the trampoline's stack, until SS and ESP name it
; anew.
bits 32
trampoline_protected:
    lidt [cs:TRAMPOLINE(trampoline_idt32_pointer)]
    mov ax, TRAMPOLINE_DATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, TRAMPOLINE(trampoline_early_stack_top)
    cmp dword [TRAMPOLINE(trampoline_test_fault)], TRAMPOLINE_FAULT_32BIT
    jne .no_fault
    ud2                                 ; smp_test=ap_protected_mode_fault (smp.c)
.no_fault:
    mov eax, cr4
    or eax, 1 << 5                      ; PAE
    mov cr4, eax
    mov eax, [TRAMPOLINE(trampoline_cr3)]
    mov cr3, eax
    mov ecx, CPU_MSR_EFER               ; as the boot CPU has it (LME, NXE)
    mov eax, [TRAMPOLINE(trampoline_efer)]
    mov edx, [TRAMPOLINE(trampoline_efer) + 4]
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)       ; PG, WP
    mov cr0, eax
    jmp TRAMPOLINE_CODE64:TRAMPOLINE(trampoline_long)

; Protected-mode exception stubs: gate N of the 32-bit IDT reaches stub N, which hands its vector on
; in AL and the error code in EDX (0 for the exceptions that push none).
%assign vector 0
%rep TRAMPOLINE_EXCEPTIONS
trampoline_protected_stub_%[vector]:
%if EXCEPTION_HAS_ERROR_CODE(vector)
    pop edx
%else
    xor edx, edx
%endif
    mov al, vector
    jmp trampoline_protected_fault
%assign vector vector + 1
%endrep

; Writes the report (the first fault only) and halts. DS may still hold its real-mode segment.
trampoline_protected_fault:
    mov cx, TRAMPOLINE_DATA32
    mov ds, cx
    movzx eax, al
    cmp dword [TRAMPOLINE(trampoline_fault_mode)], 0
    jne .halt
    mov [TRAMPOLINE(trampoline_fault_vector)], eax
    mov [TRAMPOLINE(trampoline_fault_error_code)], edx
    mov dword [TRAMPOLINE(trampoline_fault_mode)], TRAMPOLINE_FAULT_32BIT ; last: smp.c reads it first
.halt:
    cli
    hlt
    jmp .halt

; Long mode. Until the kernel's IDT is loaded, the IDTR holds the 32-bit IDT, whose gates long mode
; reads as garbage: a fault would end in a triple fault, which ends the whole machine. Before that
; IDT, the per-CPU block the kernel's handler finds its CPU by (cpu_this, at GS:0): a wrmsr and a
; null selector's load, which do not fault, so that the handler, from the first instruction its
; IDT covers, names this CPU rather than read the block at address 0 (a page fault in the handler,
; then another, each pushed below the last). Then the shared IDT; then this CPU's own GDT and TSS,
; which the boot CPU filled in before the start-up IPI (interrupts_prepare_cpu), so that a double
; fault, delivered on the TSS's IST stack, has one; then the stack the handler pushes on. From the
; IDT on any fault is reported by the kernel's handler, naming this CPU, but a double fault before
; the TSS: its gate's IST stack is read from the TSS the CPU had at its start, and it ends in a
; triple fault.
bits 64
trampoline_long:
    xor eax, eax
    mov fs, ax
    mov gs, ax                          ; before the GS base: a null selector may clear it
    mov ecx, CPU_MSR_GS_BASE
    mov eax, [TRAMPOLINE(trampoline_argument)]
    mov edx, [TRAMPOLINE(trampoline_argument) + 4]
    wrmsr
    mov rax, [TRAMPOLINE(trampoline_idt)]
    lidt [rax]
    cmp dword [TRAMPOLINE(trampoline_test_fault)], TRAMPOLINE_FAULT_64BIT
    jne .no_early_fault
    mov rsp, [TRAMPOLINE(trampoline_stack)] ; smp_test=ap_early_fault (smp.c): no TSS yet
    ud2
.no_early_fault:
    mov rax, [TRAMPOLINE(trampoline_cpu_gdt)]
    lgdt [rax]
    mov ax, GDT_TSS_SELECTOR
    ltr ax
    mov rsp, [TRAMPOLINE(trampoline_stack)]
    mov ax, TRAMPOLINE_DATA64
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rax, [TRAMPOLINE(trampoline_fault_stack)]
    test rax, rax
    jz .no_fault
    mov rsp, rax                        ; smp_test=ap_early_double_fault (smp.c)
    ud2
.no_fault:
    mov rdi, [TRAMPOLINE(trampoline_argument)]
    mov rax, [TRAMPOLINE(trampoline_entry)]
    xor ebp, ebp
    call rax                            ; smp.c: ap_main(cpu), never returns
.halt:
    cli
    hlt
    jmp .halt

align 8
trampoline_gdt:
    dq 0
    dq GDT_KERNEL_CODE_DESCRIPTOR       ; 0x08: 64-bit code
    dq GDT_KERNEL_DATA_DESCRIPTOR       ; 0x10: data
    dq 0x00cf9a000000ffff               ; 0x18: 32-bit flat code, 4 GiB
    dq 0x00cf92000000ffff               ; 0x20: 32-bit flat data, 4 GiB
trampoline_gdt_end:
trampoline_gdt_pointer:
    dw trampoline_gdt_end - trampoline_gdt - 1
    dd TRAMPOLINE(trampoline_gdt)

; Real mode's interrupt vector table: a far pointer (offset, segment) per vector.
align 4
trampoline_ivt:
%assign vector 0
%rep TRAMPOLINE_EXCEPTIONS
    dw TRAMPOLINE16(trampoline_real_stub_%[vector])
    dw TRAMPOLINE_PHYS >> 4
%assign vector vector + 1
%endrep
trampoline_ivt_end:
trampoline_ivt_pointer:
    dw trampoline_ivt_end - trampoline_ivt - 1
    dd TRAMPOLINE(trampoline_ivt)

; The 32-bit IDT: a present ring-0 32-bit interrupt gate (0x8e) per vector, in the flat code segment.
align 8
trampoline_idt32:
%assign vector 0
%rep TRAMPOLINE_EXCEPTIONS
    dw TRAMPOLINE(trampoline_protected_stub_%[vector]) & 0xffff
    dw TRAMPOLINE_CODE32
    db 0, 0x8e
    dw TRAMPOLINE(trampoline_protected_stub_%[vector]) >> 16
%assign vector vector + 1
%endrep
trampoline_idt32_end:
trampoline_idt32_pointer:
    dw trampoline_idt32_end - trampoline_idt32 - 1
    dd TRAMPOLINE(trampoline_idt32)

; The stack a fault in the 16- or 32-bit code pushes its frame on: at most 16 bytes, and room for
; an NMI's on top of it while the CPU halts.
align 16
trampoline_early_stack:
    times 64 db 0
trampoline_early_stack_top:

; Parameters, written by smp.c into the copy before each start-up IPI.
align 8
trampoline_cr3:         dq 0
trampoline_efer:        dq 0
trampoline_stack:       dq 0
trampoline_entry:       dq 0
trampoline_argument:    dq 0            ; the CPU's per-CPU block, GS base and ap_main's argument
trampoline_idt:         dq 0            ; address of the IDT's pointer (interrupts_idt_pointer)
trampoline_cpu_gdt:     dq 0            ; address of this CPU's GDT pointer (its tables' gdt_pointer)
trampoline_fault_stack: dq 0            ; nonzero: meet an invalid opcode on this stack once the TSS is loaded (tests)
trampoline_test_fault:  dq 0            ; TRAMPOLINE_FAULT_16BIT, _32BIT or _64BIT: an invalid opcode there (tests)
; The fault report, cleared by smp.c before each start-up IPI; written by the stubs above, the mode
; last, when the CPU faults in its 16- or 32-bit code.
trampoline_fault_mode:       dq 0       ; 0, TRAMPOLINE_FAULT_16BIT or TRAMPOLINE_FAULT_32BIT
trampoline_fault_vector:     dq 0       ; the exception's vector, 0..31
trampoline_fault_error_code: dq 0       ; the CPU's error code in 32-bit code; 0 if it pushes none
trampoline_end:
