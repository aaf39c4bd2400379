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
%define TRAMPOLINE(label) (TRAMPOLINE_PHYS + (label) - trampoline_start)

; Entries 1 and 2 are those of every GDT of the kernel: the selectors mean the same once the
; trampoline has loaded the CPU's own GDT, so CS need not be reloaded then.
TRAMPOLINE_CODE64 equ GDT_KERNEL_CODE_SELECTOR
TRAMPOLINE_DATA64 equ GDT_KERNEL_DATA_SELECTOR
TRAMPOLINE_CODE32 equ 0x18
TRAMPOLINE_DATA32 equ 0x20

section .rodata
align 16
global trampoline_start, trampoline_end
global trampoline_cr3, trampoline_efer, trampoline_stack, trampoline_entry, trampoline_argument
global trampoline_idt, trampoline_cpu_gdt, trampoline_fault_stack
bits 16
trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    o32 lgdt [trampoline_gdt_pointer - trampoline_start]
    mov eax, cr0
    or eax, 1                           ; PE: protected mode
    mov cr0, eax
    jmp dword TRAMPOLINE_CODE32:TRAMPOLINE(trampoline_protected)

bits 32
trampoline_protected:
    mov ax, TRAMPOLINE_DATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
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

; Long mode. Until the IDT is loaded, the IDTR holds what INIT left (base 0): a fault would be
; delivered through garbage and end in a triple fault, which ends the whole machine. So the shared
; IDT comes first; then this CPU's own GDT and TSS, which the boot CPU filled in before the start-up
; IPI (interrupts_prepare_cpu), so that a double fault, delivered on the TSS's IST stack, has one;
; then the stack the handler pushes on, then the per-CPU block the handler's log finds its CPU by
; (cpu_this). From there any fault is reported by the kernel's handler, naming this CPU.
bits 64
trampoline_long:
    mov rax, [TRAMPOLINE(trampoline_idt)]
    lidt [rax]
    mov rax, [TRAMPOLINE(trampoline_cpu_gdt)]
    lgdt [rax]
    mov ax, GDT_TSS_SELECTOR
    ltr ax
    mov rsp, [TRAMPOLINE(trampoline_stack)]
    mov ax, TRAMPOLINE_DATA64
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax                          ; before the GS base: a null selector may clear it
    mov ecx, CPU_MSR_GS_BASE
    mov eax, [TRAMPOLINE(trampoline_argument)]
    mov edx, [TRAMPOLINE(trampoline_argument) + 4]
    wrmsr
    mov rax, [TRAMPOLINE(trampoline_fault_stack)]
    test rax, rax
    jz .no_fault
    mov rsp, rax                        ; smp_test=ap_early_fault and ap_early_double_fault (smp.c)
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

; Parameters, written by smp.c into the copy before each start-up IPI.
align 8
trampoline_cr3:         dq 0
trampoline_efer:        dq 0
trampoline_stack:       dq 0
trampoline_entry:       dq 0
trampoline_argument:    dq 0            ; the CPU's per-CPU block, GS base and ap_main's argument
trampoline_idt:         dq 0            ; address of the IDT's pointer (interrupts_idt_pointer)
trampoline_cpu_gdt:     dq 0            ; address of this CPU's GDT pointer (its tables' gdt_pointer)
trampoline_fault_stack: dq 0            ; nonzero: meet an invalid opcode on this stack (tests)
trampoline_end:
