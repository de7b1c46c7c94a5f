// Marks every WORDS-th beat of an AXI4-Stream with TLAST. An IP may stream its output without
// TLAST (FINN's stitched IP does), and the AXI DMA's S2MM channel ends a transfer (and reports it
// done) on TLAST: WORDS is the IP's output words per inference, as its toolchain declares them
// (toolchains/base.py AcceleratorIp.output_words). Shared by the block designs of boards/*/vivado
// and boards/common/zynq7000/vivado.
module axis_last_after #(
    parameter integer WIDTH = 8,
    parameter integer WORDS = 1
) (
    (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 aclk CLK" *)
    (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axis:m_axis, ASSOCIATED_RESET aresetn" *)
    input  wire             aclk,
    (* X_INTERFACE_INFO = "xilinx.com:signal:reset:1.0 aresetn RST" *)
    (* X_INTERFACE_PARAMETER = "POLARITY ACTIVE_LOW" *)
    input  wire             aresetn,
    input  wire [WIDTH-1:0] s_axis_tdata,
    input  wire             s_axis_tvalid,
    output wire             s_axis_tready,
    output wire [WIDTH-1:0] m_axis_tdata,
    output wire             m_axis_tvalid,
    input  wire             m_axis_tready,
    output wire             m_axis_tlast
);
    reg [31:0] beat;  // beats of the current inference already passed on

    assign m_axis_tdata  = s_axis_tdata;
    assign m_axis_tvalid = s_axis_tvalid;
    assign s_axis_tready = m_axis_tready;
    assign m_axis_tlast  = (beat == WORDS - 1);

    always @(posedge aclk) begin
        if (!aresetn)
            beat <= 0;
        else if (s_axis_tvalid && m_axis_tready)
            beat <= (beat == WORDS - 1) ? 0 : beat + 1;
    end
endmodule
