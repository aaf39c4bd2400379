; Entry stubs for all 256 vectors: the 32 CPU exceptions, then the interrupts (APIC timer, spurious,
; error, the masked legacy PIC's spurious vectors). Each stub makes the stack look the same (an error
; code, real or zero, and the vector number), saves the general registers, and calls
; interrupt_dispatch(struct interrupt_frame *) (kernel/arch/x86_64/interrupts.h) whose layout is
; exactly what these pushes build. If the handler returns, the stub resumes the interrupted code.

bits 64
section .text
extern interrupt_dispatch

%macro EXCEPTION_WITHOUT_ERROR_CODE 1
exception_stub_%1:
    push 0
    push %1
    jmp exception_common
%endmacro

%macro EXCEPTION_WITH_ERROR_CODE 1
exception_stub_%1:
    push %1
    jmp exception_common
%endmacro

; Vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30.
%assign vector 0
%rep 32
%if vector = 8 || (vector >= 10 && vector <= 14) || vector = 17 || vector = 21 || vector = 29 || vector = 30
    EXCEPTION_WITH_ERROR_CODE vector
%else
    EXCEPTION_WITHOUT_ERROR_CODE vector
%endif
%assign vector vector + 1
%endrep

; Interrupts push no error code.
%rep 256 - 32
    EXCEPTION_WITHOUT_ERROR_CODE vector
%assign vector vector + 1
%endrep

exception_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    ; Already 16-aligned: the CPU aligns RSP before its 5-qword frame, and 22 qwords are pushed in
    ; all (with the error code and the vector). The AND only guards the C ABI.
    mov rbx, rsp
    and rsp, -16
    call interrupt_dispatch
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                         ; vector and error code
    iretq

section .rodata
align 8
global exception_stubs
exception_stubs:
%assign vector 0
%rep 256
    dq exception_stub_ %+ vector
%assign vector vector + 1
%endrep
